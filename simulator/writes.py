"""POST / PUT / PATCH / DELETE through one thread-safe path that stamps ``_info``.

Every committed change sets ``_info.lastUpdated`` to the current UTC second and
``updatedBy`` to the acting member, then queues callback deliveries without waiting for them.
Company deletes are soft (``deletedFlag``, ``dateDeleted``, ``deletedBy``; facts §6); other
deletes are hard and cascade to child rows (forecast items, agreement additions).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simulator import callbacks
from simulator.errors import record_missing
from simulator.patch import apply_patch
from simulator.resources import REGISTRY, Parent, Resource, make_ref
from simulator.shapes import info
from simulator.validation import CREATE_ONLY, copy_fields, merge_custom_fields, normalize

if TYPE_CHECKING:
    from simulator.core import Simulator

Record = dict[str, Any]
_CASCADE = {"sales/opportunities": ("sales/opportunities/forecast", "opportunity"),
            "finance/agreements": ("finance/agreements/additions", "agreementId")}


def now_stamp() -> str:
    """Return the current UTC second as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def link_value(record: Record, link: str) -> Any:
    """Return the parent id a child record points at (``agreementId`` or ``opportunity/id``)."""
    value = record.get(link)
    return value.get("id") if isinstance(value, dict) else value


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a write happens: the resource and, for child routes, the parent."""

    resource: Resource
    parent: Parent | None = None
    parent_id: int | None = None


class Writer:
    """Applies writes to the store of one simulator."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    @property
    def store(self) -> Any:
        """Return the current store (replaced on reset)."""
        return self.sim.store

    def parent_record(self, scope: Scope) -> Record | None:
        """Return the parent of a child route, or raise the parent's 404."""
        if scope.parent is None:
            return None
        parent = self.store[scope.parent.collection].get(scope.parent_id)
        if parent is None:
            raise record_missing(REGISTRY[scope.parent.collection].label, scope.parent_id)
        return parent

    def existing(self, scope: Scope, record_id: int) -> Record:
        """Return a record visible in this scope, or raise its 404 (facts §2)."""
        self.parent_record(scope)
        record = self.store[scope.resource.collection].get(record_id)
        if record is None or (
            scope.parent is not None and link_value(record, scope.parent.link) != scope.parent_id
        ):
            raise record_missing(scope.resource.label, record_id)
        return record

    def _finish(self, scope: Scope, record: Record, previous: Record | None, actor: str) -> Record:
        resource = scope.resource
        parent = self.parent_record(scope)
        if parent is not None and scope.parent is not None:
            link = scope.parent.link
            record[link] = (make_ref(REGISTRY[scope.parent.collection], parent)
                            if link in resource.refs else parent["id"])
        if resource.collection == "system/callbacks":
            self._callback_defaults(record, previous)
        extra = callbacks.validate_entry if resource.collection == "system/callbacks" else None
        normalize(self.store, resource, record, extra)
        stamp = now_stamp()
        record["_info"] = info(stamp, actor)
        old_info = (previous or {}).get("_info") or {}
        record["_info"]["dateEntered"] = old_info.get("dateEntered", stamp)
        record["_info"]["enteredBy"] = old_info.get("enteredBy", actor)
        if "dateEntered" in record and record["dateEntered"] is None:
            record["dateEntered"] = record["_info"]["dateEntered"]
        return record

    def _callback_defaults(self, record: Record, previous: Record | None) -> None:
        api_member = self.store.find_by("system/members", "identifier",
                                        self.sim.api_member_identifier)
        record["memberId"] = (previous or {}).get("memberId") or (api_member or {}).get("id")
        record["connectWiseID"] = (previous or {}).get("connectWiseID") or str(uuid.uuid4())

    def _commit(self, scope: Scope, record: Record, action: str, actor: str) -> Record:
        self.store[scope.resource.collection].put(record)
        self.sim.dispatcher.notify(scope.resource, action, record, actor)
        return record

    def create(self, scope: Scope, body: Any, actor: str, record_id: int | None = None) -> Record:
        """Create a record (POST); the server assigns the id unless one was pre-allocated."""
        with self.store.lock:
            record = copy_fields(body, scope.resource.blank())
            if "customFields" in record:
                record["customFields"] = merge_custom_fields(
                    scope.resource.blank()["customFields"], (body or {}).get("customFields"))
            record = self._finish(scope, record, None, actor)
            collection = self.store[scope.resource.collection]
            record["id"] = record_id if record_id is not None else collection.allocate_id()
            record = {"id": record.pop("id"), **record}
            return self._commit(scope, record, "added", actor)

    def replace(self, scope: Scope, record_id: int, body: Any, actor: str) -> Record:
        """Replace a record (PUT): omitted fields reset to their defaults (facts §8)."""
        with self.store.lock:
            current = self.existing(scope, record_id)
            keep = CREATE_ONLY.get(scope.resource.collection, ())
            record = copy_fields(body, scope.resource.blank(), keep=keep)
            for field in keep:
                record[field] = current[field]
            if "customFields" in record:
                record["customFields"] = merge_custom_fields(
                    current["customFields"], (body or {}).get("customFields"))
            record["id"] = record_id
            return self._commit(scope, self._finish(scope, record, current, actor), "updated",
                                actor)

    def patch(self, scope: Scope, record_id: int, operations: Any, actor: str) -> Record:
        """Apply a JSON Patch array (PATCH) and validate the result like a PUT."""
        with self.store.lock:
            current = self.existing(scope, record_id)
            record = apply_patch(current, operations)
            for field in CREATE_ONLY.get(scope.resource.collection, ()):
                record[field] = current[field]
            if "customFields" in record:
                record["customFields"] = merge_custom_fields(
                    current["customFields"], record["customFields"])
            return self._commit(scope, self._finish(scope, record, current, actor), "updated",
                                actor)

    def delete(self, scope: Scope, record_id: int, actor: str) -> None:
        """Delete a record (DELETE → 204); companies are only flagged as deleted."""
        with self.store.lock:
            current = self.existing(scope, record_id)
            resource = scope.resource
            if resource.soft_delete:
                if current.get("deletedFlag"):
                    return
                stamp = now_stamp()
                record = dict(current, deletedFlag=True, dateDeleted=stamp, deletedBy=actor)
                record["_info"] = dict(current["_info"] or {}, lastUpdated=stamp, updatedBy=actor)
                self.store[resource.collection].put(record)
            else:
                self.store[resource.collection].remove(record_id)
                record = current
                self._cascade(resource.collection, record_id)
            self.sim.dispatcher.notify(resource, "deleted", record, actor)

    def _cascade(self, collection: str, record_id: int) -> None:
        child = _CASCADE.get(collection)
        if child is None:
            return
        rows = self.store[child[0]]
        for row in [r for r in rows if link_value(r, child[1]) == record_id]:
            rows.remove(row["id"])

    def set_fields(self, scope: Scope, record_id: int, changes: Record, actor: str) -> Record:
        """Change some fields of a record (used by the mutation control)."""
        operations = [{"op": "replace", "path": k, "value": v} for k, v in changes.items()]
        return self.patch(scope, record_id, operations, actor)
