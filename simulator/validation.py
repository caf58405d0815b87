"""Turn a write body into a stored record: copy known fields, resolve references, validate.

Errors are collected and answered together as ConnectWise does (facts §2)::

    400 {"code": "InvalidObject", "message": "contact object is invalid",
         "errors": [{"code": "MissingRequiredField", "message": "The firstName field is
         required.", "resource": "contact", "field": "firstName"}]}

The codes for a too-long value and an unknown reference (``InvalidField``) and their message
texts are our choice: the facts only confirm ``MissingRequiredField``, ``InvalidField`` (for a
callback URL) and ``ObjectExists``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.errors import bad_request, field_error, invalid_object
from simulator.resources import REGISTRY, RefField, Resource, make_ref
from simulator.store import Store

Record = dict[str, Any]
_READ_ONLY = ("id", "_info")
# "types ... can be passed in only during new company creation (post)" (facts §7.5).
CREATE_ONLY: dict[str, tuple[str, ...]] = {"company/companies": ("types",)}
_COMM_CHANNELS = ("Email", "Phone", "Fax")


class Problems:
    """Collects ``errors[]`` items for one object."""

    def __init__(self, resource: Resource) -> None:
        self.resource = resource
        self.items: list[dict[str, str]] = []

    def add(self, code: str, message: str, field: str) -> None:
        """Record one problem with a field."""
        self.items.append(field_error(code, message, self.resource.object_name, field))

    def raise_if_any(self) -> None:
        """Raise the 400 InvalidObject answer when anything was recorded."""
        if self.items:
            raise invalid_object(self.resource.object_name, self.items)


def copy_fields(body: Any, base: Record, *, keep: tuple[str, ...] = ()) -> Record:
    """Overlay the body's known fields on ``base`` (names matched case-insensitively)."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    record = dict(base)
    names = {k.lower(): k for k in base}
    for key, value in body.items():
        target = names.get(str(key).lower())
        if target is None or target in _READ_ONLY or target in keep:
            continue  # unknown fields are ignored, as the real API ignores them
        record[target] = value
    return record


def resolve_ref(store: Store, ref: RefField, value: Any) -> Record | None:
    """Find the target of a reference given as ``{id}``, ``{identifier}`` or ``{name}``."""
    if not isinstance(value, dict):
        return None
    target = store[ref.target]
    if value.get("id") is not None:
        try:
            return target.get(int(value["id"]))
        except (TypeError, ValueError):
            return None
    for key in ("identifier", "name", "description"):
        if isinstance(value.get(key), str):
            return store.find_by(ref.target, key, value[key])
    return None


def _resolve_refs(store: Store, record: Record, problems: Problems) -> None:
    for field, ref in problems.resource.refs.items():
        value = record.get(field)
        if value is None or (ref.many and value == []):
            continue
        values = value if ref.many and isinstance(value, list) else [value]
        resolved = []
        for item in values:
            target = resolve_ref(store, ref, item)
            if target is None:
                shown = item.get("id", item) if isinstance(item, dict) else item
                problems.add("InvalidField", f"The {field} {shown!r} was not found.", field)
                continue
            resolved.append(make_ref(REGISTRY[ref.target], target))
        record[field] = resolved if ref.many else (resolved[0] if resolved else None)


def _check_values(record: Record, problems: Problems) -> None:
    resource = problems.resource
    for field in resource.required:
        if record.get(field) in (None, "", []):
            problems.add("MissingRequiredField", f"The {field} field is required.", field)
    if resource.any_of and all(record.get(f) in (None, "") for f in resource.any_of):
        problems.add("MissingRequiredField",
                     f"At least one address field is required ({', '.join(resource.any_of)}).",
                     resource.any_of[0])
    for field, limit in resource.limits.items():
        value = record.get(field)
        if isinstance(value, str) and len(value) > limit:
            problems.add("InvalidField",
                         f"The {field} field cannot be longer than {limit} characters.", field)
        elif value is not None and not isinstance(value, str):
            problems.add("InvalidField", f"The {field} field must be a string.", field)
    for field, allowed in resource.enums.items():
        value = record.get(field)
        if value is not None and value not in allowed:
            problems.add("InvalidField",
                         f"The {field} field must be one of: {', '.join(allowed)}.", field)


def _check_unique(store: Store, record: Record, problems: Problems) -> None:
    for field in problems.resource.unique:
        value = record.get(field)
        if not isinstance(value, str):
            continue
        clash = store.find_by(problems.resource.collection, field, value)
        if clash is not None and clash["id"] != record.get("id"):
            problems.add("ObjectExists", f"The {field} {value!r} is already in use.", field)


def merge_custom_fields(current: list[Record], incoming: Any) -> list[Record]:
    """Set values by custom field id; fields not sent keep their value (facts §8, AMP)."""
    merged = [dict(f) for f in current]
    if not isinstance(incoming, list):
        return merged
    by_id = {f["id"]: f for f in merged}
    for item in incoming:
        if isinstance(item, dict) and item.get("id") in by_id:
            by_id[item["id"]]["value"] = item.get("value")
    return merged


def _communication_items(store: Store, items: Any, problems: Problems) -> list[Record]:
    if not isinstance(items, list):
        problems.add("InvalidField", "communicationItems must be an array.", "communicationItems")
        return []
    types = store["company/communicationTypes"]
    out = []
    for item in items:
        if not isinstance(item, dict):
            continue
        kind = resolve_ref(store, RefField("company/communicationTypes"), item.get("type"))
        kind = kind or (types.get(1) if item.get("communicationType") == "Email" else None)
        value, extension = item.get("value"), item.get("extension")
        if kind is None:
            problems.add("InvalidField", "A communication item needs a known type.",
                         "communicationItems")
            continue
        if not isinstance(value, str) or not value or len(value) > 250:
            problems.add("InvalidField", "A communication item value is required "
                         "(at most 250 characters).", "communicationItems")
            continue
        if isinstance(extension, str) and len(extension) > 15:
            problems.add("InvalidField", "The extension field cannot be longer than 15 "
                         "characters.", "communicationItems")
        channel = item.get("communicationType") or (
            "Email" if kind["emailFlag"] else "Fax" if kind["faxFlag"] else "Phone")
        if channel not in _COMM_CHANNELS:
            problems.add("InvalidField", "communicationType must be Email, Phone or Fax.",
                         "communicationItems")
        item_id = item.get("id") if isinstance(item.get("id"), int) else None
        if item_id is None:
            item_id = store.meta["next_comm_item"]
            store.meta["next_comm_item"] += 1
        entry = {"id": item_id, "type": {"id": kind["id"], "name": kind["description"]},
                 "value": value, "extension": extension,
                 "defaultFlag": bool(item.get("defaultFlag")), "communicationType": channel}
        if channel == "Email" and "@" in value:
            entry["domain"] = "@" + value.split("@", 1)[1]
        out.append(entry)
    return out


def _derive(store: Store, record: Record, problems: Problems) -> None:
    """Fill the fields the server derives: a subcategory's category, default statuses."""
    collection = problems.resource.collection
    if collection == "company/contacts":
        record["communicationItems"] = _communication_items(
            store, record["communicationItems"], problems)
    elif collection == "procurement/catalog" and record.get("subcategory"):
        sub = store["procurement/subcategories"].get(record["subcategory"]["id"])
        if sub is not None and sub.get("category"):
            record["category"] = sub["category"]
    defaults = {"sales/opportunities": ("status", "sales/opportunities/statuses"),
                "sales/activities": ("status", "sales/activities/statuses")}
    if collection in defaults and record.get("status") is None:
        field, target = defaults[collection]
        default = store.find_by(target, "defaultFlag", True)
        record[field] = make_ref(REGISTRY[target], default) if default else None


def normalize(
    store: Store, resource: Resource, record: Record,
    extra: Callable[[Store, Record, Problems], None] | None = None,
) -> Record:
    """Validate a candidate record and resolve its references; raise 400 on any problem."""
    problems = Problems(resource)
    _check_values(record, problems)
    _resolve_refs(store, record, problems)
    _derive(store, record, problems)
    _check_unique(store, record, problems)
    if extra is not None:
        extra(store, record, problems)
    problems.raise_if_any()
    return record
