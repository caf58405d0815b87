"""Answer one authenticated ``apis/3.0`` request: reads, counts and writes."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simulator import auth, documents, paging
from simulator.errors import ApiError, bad_request, endpoint_missing, record_missing
from simulator.query import MAX_PAGE_SIZE, ListQuery, parse_list_query, schema_for
from simulator.resources import REGISTRY, Resource, module_of
from simulator.routing import Match, match
from simulator.store import encode
from simulator.writes import Scope, link_value

if TYPE_CHECKING:
    from simulator.core import Simulator

Record = dict[str, Any]
FORECAST = "sales/opportunities/forecast"


@dataclass(slots=True)
class ApiRequest:
    """The parts of an HTTP request the API needs."""

    method: str
    segments: list[str]  # path segments after "apis/3.0"
    params: Mapping[str, str]
    raw_query: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    base_url: str  # scheme://host/path, for Link headers


@dataclass(slots=True)
class ApiResponse:
    """Status, body and extra headers of an answer."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, value: Any) -> ApiResponse:
    """Serialise a value as the API does."""
    return ApiResponse(status, encode(value))


def error_response(error: ApiError) -> ApiResponse:
    """Turn an ApiError into its JSON answer."""
    return ApiResponse(error.status, encode(error.body), dict(error.headers))


def _not_allowed(method: str) -> ApiError:
    return ApiError(405, {"code": "ConnectWiseApi", "message":
                          f"The requested resource does not support http method '{method}'."})


def _body(request: ApiRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request("The request body is not valid JSON.") from exc


def _fields_tree(request: ApiRequest, sim: Simulator, resource: Resource) -> dict | None:
    fields = {k.lower(): v for k, v in request.params.items()}.get("fields")
    if not fields:
        return None
    collection = sim.store[resource.collection]
    return paging.parse_fields(fields, schema_for(collection, resource.blank()))


def endpoint_template(segments: list[str]) -> str:
    """Return the statistics key of a path: ids become ``{id}``."""
    found = match(segments)
    if found is not None:
        return found.template
    return "/".join("{id}" if s.isdigit() else s for s in segments)


class Api:
    """Dispatches a matched request to the read or write operation it names."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Authenticate, route and answer; every ApiError becomes its JSON response."""
        try:
            auth.check_credentials(request.headers, self.sim.auth)
            auth.check_client_id(request.headers, self.sim.auth)
            found = match(request.segments)
            if found is None:
                raise endpoint_missing()
            resource = found.resource
            path = resource.collection if resource else "/".join(found.template.split("/")[:2])
            table = resource.table if resource else None
            auth.check_access(module_of(path), table, self.sim.auth)
            if found.parent is not None and found.parent.collection == "procurement/categories":
                auth.check_access("Procurement", "Category", self.sim.auth)
            return self._dispatch(request, found)
        except ApiError as error:
            return error_response(error)

    def _dispatch(self, request: ApiRequest, found: Match) -> ApiResponse:
        handlers: dict[tuple[str, str], Callable[[ApiRequest, Match], ApiResponse]] = {
            ("info", "GET"): lambda _r, _m: json_response(200, documents.system_info()),
            ("my_security", "GET"): self._my_security,
            ("role_settings", "GET"): self._role_settings,
            ("list", "GET"): self._list,
            ("list", "POST"): self._create,
            ("count", "GET"): self._count,
            ("item", "GET"): self._get,
            ("item", "PUT"): self._replace,
            ("item", "PATCH"): self._patch,
            ("item", "DELETE"): self._delete,
        }
        handler = handlers.get((found.kind, request.method))
        if handler is None:
            raise _not_allowed(request.method)
        return handler(request, found)

    def _scope(self, found: Match) -> Scope:
        assert found.resource is not None
        return Scope(found.resource, found.parent, found.parent_id)

    def _record_id(self, found: Match) -> int:
        resource, key = found.resource, found.record_key or ""
        assert resource is not None
        if key.isdigit():
            return int(key)
        record = self.sim.store.find_by(resource.collection, resource.lookup_field or "id", key)
        if record is None:
            raise record_missing(resource.label, key)
        return record["id"]

    def _my_security(self, _request: ApiRequest, _found: Match) -> ApiResponse:
        member = self.sim.store.find_by("system/members", "identifier",
                                        self.sim.api_member_identifier)
        ref = {"id": member["id"], "identifier": member["identifier"]} if member else None
        return json_response(200, documents.security_settings(self.sim.auth.denied_modules, ref))

    def _role_settings(self, _request: ApiRequest, found: Match) -> ApiResponse:
        role = self.sim.store["system/securityroles"].get(int(found.record_key or 0))
        if role is None:
            raise record_missing("SecurityRole", found.record_key)
        api_role = role["name"] == "API Integration"
        denied = self.sim.auth.denied_modules if api_role else []
        return json_response(200, documents.security_settings(denied))

    def _parent_filter(self, found: Match) -> tuple[Callable[[Record], bool] | None, tuple]:
        if found.parent is None:
            return None, ()
        parent = self.sim.store[found.parent.collection].get(found.parent_id)
        if parent is None:
            raise record_missing(REGISTRY[found.parent.collection].label, found.parent_id)
        link, parent_id = found.parent.link, found.parent_id
        return (lambda r: link_value(r, link) == parent_id), (link, parent_id)

    def _list(self, request: ApiRequest, found: Match) -> ApiResponse:
        resource = found.resource
        assert resource is not None
        store = self.sim.store
        forward = request.headers.get("pagination-type", "").lower() == "forward-only"
        query = parse_list_query(request.params, forward_only=forward)
        with store.lock:
            extra, cache_key = self._parent_filter(found)
            collection = store[resource.collection]
            schema = schema_for(collection, resource.blank())
            if resource.collection == FORECAST:
                return self._forecast_list(found, query, schema, extra)
            page = paging.select(collection, schema, query, extra, cache_key)
            tree = paging.parse_fields(query.fields, schema) if query.fields else None
            body = paging.render(collection, page.ids, tree)
        if forward:
            link = paging.forward_link(request.base_url, request.raw_query, page.ids,
                                       query.page_size)
        else:
            link = paging.page_links(request.base_url, request.raw_query, query.page,
                                     query.page_size, page.total or 0)
        return ApiResponse(200, body, {"Link": link} if link else {})

    def _forecast_list(self, found: Match, query: Any, schema: Any, extra: Any) -> ApiResponse:
        collection = self.sim.store[FORECAST]
        plain = ListQuery(query.conditions, query.child_conditions,
                          query.custom_field_conditions, page_size=MAX_PAGE_SIZE)
        ids = paging.select(collection, schema, plain, extra, (FORECAST, found.parent_id)).ids
        opportunity = self.sim.store["sales/opportunities"].get(found.parent_id)
        items = [collection.get(i) for i in ids]
        return json_response(200, [documents.forecast(opportunity, items)])

    def _count(self, request: ApiRequest, found: Match) -> ApiResponse:
        resource = found.resource
        assert resource is not None
        query = parse_list_query(request.params, forward_only=False)
        with self.sim.store.lock:
            extra, cache_key = self._parent_filter(found)
            collection = self.sim.store[resource.collection]
            schema = schema_for(collection, resource.blank())
            total = paging.count(collection, schema, query, extra, cache_key)
        return json_response(200, {"count": total})

    def _answer_record(self, request: ApiRequest, found: Match, record: Record,
                       status: int) -> ApiResponse:
        assert found.resource is not None
        tree = _fields_tree(request, self.sim, found.resource)
        if tree is not None:
            return json_response(status, paging.project(record, tree))
        if found.resource.collection == FORECAST and request.method == "POST":
            return json_response(status, self._forecast_of(found.parent_id))
        return ApiResponse(status, encode(record))

    def _forecast_of(self, opportunity_id: int | None) -> Record:
        items = [r for r in self.sim.store[FORECAST]
                 if link_value(r, "opportunity") == opportunity_id]
        opportunity = self.sim.store["sales/opportunities"].get(opportunity_id)
        return documents.forecast(opportunity, items)

    def _get(self, request: ApiRequest, found: Match) -> ApiResponse:
        record_id = self._record_id(found)
        with self.sim.store.lock:
            record = self.sim.writer.existing(self._scope(found), record_id)
            if found.parent is None and _fields_tree(request, self.sim, found.resource) is None:
                body = self.sim.store[found.resource.collection].json_bytes(record_id)
                return ApiResponse(200, body)
        return self._answer_record(request, found, record, 200)

    def _writable(self, request: ApiRequest, found: Match) -> Scope:
        scope = self._scope(found)
        if not scope.resource.writable:
            raise _not_allowed(request.method)
        return scope

    def _create(self, request: ApiRequest, found: Match) -> ApiResponse:
        scope = self._writable(request, found)
        record = self.sim.writer.create(scope, _body(request), self.sim.api_member_identifier)
        return self._answer_record(request, found, record, 201)

    def _replace(self, request: ApiRequest, found: Match) -> ApiResponse:
        scope = self._writable(request, found)
        record = self.sim.writer.replace(scope, self._record_id(found), _body(request),
                                         self.sim.api_member_identifier)
        return self._answer_record(request, found, record, 200)

    def _patch(self, request: ApiRequest, found: Match) -> ApiResponse:
        scope = self._writable(request, found)
        record = self.sim.writer.patch(scope, self._record_id(found), _body(request),
                                       self.sim.api_member_identifier)
        return self._answer_record(request, found, record, 200)

    def _delete(self, request: ApiRequest, found: Match) -> ApiResponse:
        scope = self._writable(request, found)
        self.sim.writer.delete(scope, self._record_id(found), self.sim.api_member_identifier)
        return ApiResponse(204)
