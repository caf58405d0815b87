"""Run a ListQuery over a collection: select, order, page, project and link."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulator import conditions as cond
from simulator import predicates
from simulator.errors import bad_request
from simulator.query import FieldSchema, IdBounds, ListQuery, build_predicate
from simulator.store import Collection, encode

Record = dict[str, Any]


@dataclass(slots=True)
class Page:
    """One page of results: the ids, the total (None in forward-only mode)."""

    ids: list[int]
    total: int | None


def parse_order(order_by: str, schema: FieldSchema) -> list[tuple[tuple[str, ...], bool]]:
    """Parse ``field asc|desc[, ...]`` into (path, descending) pairs (facts §4)."""
    keys = []
    for part in order_by.split(","):
        words = part.split()
        bad_direction = len(words) == 2 and words[1].lower() not in ("asc", "desc")
        if not words or len(words) > 2 or bad_direction:
            raise bad_request(f"Invalid orderBy {order_by!r}; use 'field asc' or 'field desc'.")
        try:
            path = schema.resolve(words[0])
        except cond.ConditionError as exc:
            raise bad_request(f"Invalid orderBy: {exc}") from exc
        keys.append((path, len(words) == 2 and words[1].lower() == "desc"))
    return keys


def _sort_key(path: tuple[str, ...]) -> Callable[[Record], tuple[Any, ...]]:
    getter = predicates.make_getter(path)

    def key(record: Record) -> tuple[Any, ...]:
        value = getter(record)
        if value is None or (isinstance(value, predicates.Multi) and not value):
            return (0, 0)  # SQL Server sorts NULL first
        if isinstance(value, predicates.Multi):
            value = value[0]
        if isinstance(value, str):
            return (2, value.casefold())
        if isinstance(value, bool | int | float):
            return (1, value)
        return (3, str(value))

    return key


def _matching(collection: Collection, predicate: Callable[[Record], bool]) -> list[int]:
    rows = collection.rows
    return [record_id for record_id in collection.ids if predicate(rows[record_id])]


def select(
    collection: Collection, schema: FieldSchema, query: ListQuery,
    extra: Callable[[Record], bool] | None = None, cache_key: tuple[Any, ...] = (),
) -> Page:
    """Return the page of ids a list request asks for, plus the total match count.

    ``id`` bounds at the top level of ``conditions`` (and forward-only ``pageId``) narrow the
    sorted id list by bisection. The ids matching the rest of the filter are computed once per
    collection version and cached in id order, so keyset paging (``id > last and ...``) costs
    a bisection per page instead of a scan.
    """
    bounds = IdBounds()
    predicate, predicate_key = build_predicate(query, schema, bounds)
    if extra is not None:
        base = predicate
        predicate = extra if base is None else (lambda r: extra(r) and base(r))
    if query.forward_only:
        # Forward-only: pageId is an extra "id > pageId" condition, id order (facts §3).
        bounds.narrow(">", query.page_id or 0)
    matched = collection.ids
    if predicate is not None:
        key = (cache_key, predicate_key)
        cached = collection.cached_query(key)
        if cached is None:
            cached = _matching(collection, predicate)
            collection.remember_query(key, cached)
        matched = cached
    ids = bounds.slice(matched)
    if query.forward_only:
        return Page(ids[: query.page_size], None)
    order = parse_order(query.order_by, schema) if query.order_by else []
    if len(order) == 1 and order[0][0] == ("id",):
        if order[0][1]:
            ids = ids[::-1]
    elif order:
        ids = _sorted(collection, ids, order, (cache_key, predicate_key, repr(bounds),
                                               query.order_by))
    start = (query.page - 1) * query.page_size
    return Page(ids[start:start + query.page_size], len(ids))


def _sorted(collection: Collection, ids: list[int],
            order: list[tuple[tuple[str, ...], bool]], key: tuple[Any, ...]) -> list[int]:
    cached = collection.cached_query(key)
    if cached is None:
        rows = collection.rows
        cached = list(ids)
        for path, desc in reversed(order):
            sort_key = _sort_key(path)
            cached.sort(key=lambda i, k=sort_key: k(rows[i]), reverse=desc)
        collection.remember_query(key, cached)
    return cached


def count(collection: Collection, schema: FieldSchema, query: ListQuery,
          extra: Callable[[Record], bool] | None = None, cache_key: tuple[Any, ...] = ()) -> int:
    """Return how many records match the filters of a list query (``/count``, facts §3)."""
    plain = ListQuery(query.conditions, query.child_conditions, query.custom_field_conditions,
                      page_size=1)
    total = select(collection, schema, plain, extra, cache_key).total
    return total or 0


def parse_fields(fields: str, schema: FieldSchema) -> dict[str, Any]:
    """Turn ``id,name,status/id`` into a projection tree; unknown fields are ignored."""
    tree: dict[str, Any] = {}
    for raw in fields.split(","):
        if not raw.strip():
            continue
        try:
            path = schema.resolve(raw)
        except cond.ConditionError:
            continue
        node = tree
        for key in path:
            node = node.setdefault(key, {})
    return tree


def project(value: Any, tree: dict[str, Any]) -> Any:
    """Keep only the fields of ``tree`` (arrays are projected element by element)."""
    if isinstance(value, list):
        return [project(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, sub in tree.items():
        if key in value:
            out[key] = project(value[key], sub) if sub else value[key]
    return out


def render(collection: Collection, ids: list[int], tree: dict[str, Any] | None) -> bytes:
    """Serialise a page: joined cached bytes, or a projection when ``fields`` is set."""
    if tree is None:
        return b"[" + b",".join(collection.json_bytes(i) for i in ids) + b"]"
    rows = collection.rows
    return encode([project(rows[i], tree) for i in ids])


def _query_without(raw_query: str, name: str) -> list[str]:
    prefix = name.lower() + "="
    return [p for p in raw_query.split("&") if p and not p.lower().startswith(prefix)]


def page_links(base_url: str, raw_query: str, page: int, page_size: int, total: int) -> str | None:
    """Build the navigable Link header; ``page`` stays the last parameter (facts §3)."""
    last = max(1, math.ceil(total / page_size))
    params = _query_without(raw_query, "page")

    def link(number: int, rel: str) -> str:
        return f'<{base_url}?{"&".join([*params, f"page={number}"])}>; rel="{rel}"'

    links = []
    if page > 1:
        links += [link(1, "first"), link(min(page - 1, last), "prev")]
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    return ", ".join(links) or None


def forward_link(base_url: str, raw_query: str, ids: list[int], page_size: int) -> str | None:
    """Link to the next forward-only page (``pageId`` = last id); none after a short page."""
    if not ids or len(ids) < page_size:
        return None
    params = _query_without(raw_query, "pageId")
    return f'<{base_url}?{"&".join([*params, f"pageId={ids[-1]}"])}>; rel="next"'
