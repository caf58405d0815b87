"""JSON Patch as ConnectWise takes it: a bare array of ``{op, path, value}`` (facts §8)."""

from __future__ import annotations

import copy
from typing import Any

from simulator.errors import ApiError, bad_request

Record = dict[str, Any]
OPS = ("add", "replace", "remove")


def _tokens(path: Any, index: int) -> list[str]:
    if not isinstance(path, str) or not path.strip("/"):
        raise bad_request(f"Patch operation {index}: 'path' must name a field, e.g. 'name'.")
    # Paths come with or without the leading "/" (DJCW "firstName", AMP "/communicationItems/1").
    # JSON Pointer escapes: "~1" is "/", "~0" is "~".
    return [t.replace("~1", "/").replace("~0", "~") for t in path.strip("/").split("/")]


def _list_index(token: str, items: list[Any], op: str, index: int) -> int:
    if op == "add" and token == "-":  # noqa: S105 - JSON Patch "append" marker, not a secret
        return len(items)
    if not token.isdigit():
        raise bad_request(f"Patch operation {index}: {token!r} is not an array index.")
    position = int(token)
    limit = len(items) if op == "add" else len(items) - 1
    if position > limit:
        raise bad_request(f"Patch operation {index}: array index {position} is out of range.")
    return position


def _apply_one(doc: Record, operation: Any, index: int) -> None:
    if not isinstance(operation, dict):
        raise bad_request(f"Patch operation {index} must be an object with op, path and value.")
    op = str(operation.get("op", "")).lower()
    if op not in OPS:
        raise bad_request(f"Patch operation {index}: op must be one of add, replace, remove.")
    if op != "remove" and "value" not in operation:
        raise bad_request(f"Patch operation {index}: '{op}' needs a value.")
    tokens = _tokens(operation.get("path"), index)
    # Field names are case-sensitive in patch paths (facts §8, DG).
    if tokens[0] not in doc or tokens[0] in ("id", "_info"):
        raise bad_request(f"Patch operation {index}: field {tokens[0]!r} does not exist "
                          "or cannot be changed (paths are case-sensitive).")
    parent: Any = doc
    for token in tokens[:-1]:
        if isinstance(parent, list):
            parent = parent[_list_index(token, parent, "replace", index)]
        elif isinstance(parent, dict):
            if parent.get(token) is None and op == "add":
                parent[token] = {}
            parent = parent.get(token)
        if parent is None or not isinstance(parent, dict | list):
            raise bad_request(f"Patch operation {index}: path {operation['path']!r} not found.")
    last = tokens[-1]
    value = copy.deepcopy(operation.get("value"))
    if isinstance(parent, list):
        position = _list_index(last, parent, op, index)
        if op == "add":
            parent.insert(position, value)
        elif op == "replace":
            parent[position] = value
        else:
            del parent[position]
    elif op == "remove":
        parent[last] = [] if isinstance(parent.get(last), list) else None
    else:
        parent[last] = value


def apply_patch(record: Record, operations: Any) -> Record:
    """Return a patched deep copy of ``record``; raise a 400 ApiError for a malformed patch."""
    if not isinstance(operations, list) or not operations:
        raise bad_request("A PATCH body must be a non-empty JSON array of "
                          "{op, path, value} operations.")
    doc = copy.deepcopy(record)
    for index, operation in enumerate(operations):
        try:
            _apply_one(doc, operation, index)
        except ApiError:
            raise
        except (TypeError, KeyError, IndexError) as exc:
            raise bad_request(f"Patch operation {index} could not be applied: {exc}") from exc
    return doc
