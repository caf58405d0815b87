"""Field maps in reverse: staging columns of an outbox row → a ConnectWise request body.

A column whose field-map entry is a plain ``source`` path is written to that path; the
``default_email``/``default_phone``/``default_fax`` transforms become communication items;
a ``custom_field`` becomes a ``customFields`` entry. Other transforms are derived values and
cannot be written back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectwise.mapping.models import FieldSpec
from connectwise.staging.outbox import RowError

Record = dict[str, Any]
CHANNELS = {"default_email": "Email", "default_phone": "Phone", "default_fax": "Fax"}
READ_ONLY_PATHS = ("id", "_info")


@dataclass
class ReversedFields:
    """A request body, its communication items by channel, and custom field values."""

    body: Record = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)
    custom: dict[str | int, Any] = field(default_factory=dict)


def reverse_fields(fields: dict[str, FieldSpec], values: Record, section: str) -> ReversedFields:
    """Turn ``column → value`` into body parts through the field map of ``section``.

    Raises:
        RowError: a column is not in the field map, or cannot be written back.
    """
    result = ReversedFields()
    problems = []
    for column, value in values.items():
        spec = fields.get(column)
        if spec is None:
            problems.append(
                f"{column!r} is not a column of the {section} field map "
                f"(known: {', '.join(sorted(fields))})"
            )
        elif spec.source and spec.source.split("/", 1)[0] not in READ_ONLY_PATHS:
            _set_path(result.body, spec.source, value)
        elif spec.transform in CHANNELS:
            result.channels[CHANNELS[spec.transform]] = value
        elif spec.custom_field is not None:
            result.custom[spec.custom_field] = value
        else:
            problems.append(f"{column!r} is derived by ConnectWise or a transform; not writable")
    if problems:
        raise RowError("; ".join(problems))
    return result


def merge_channels(
    items: list[Record], channels: dict[str, str], type_ids: dict[str, int]
) -> list[Record]:
    """Set the default item of each channel (Email, Phone, Fax), adding one when missing.

    ``type_ids`` gives the communication type a new item of each channel gets.
    """
    merged = [dict(item) for item in items]
    for channel, value in channels.items():
        same = [item for item in merged if item.get("communicationType") == channel]
        target = next((item for item in same if item.get("defaultFlag")), same[0] if same else None)
        if target is None:
            merged.append(
                {
                    "type": {"id": type_ids[channel]},
                    "value": value,
                    "defaultFlag": True,
                    "communicationType": channel,
                }
            )
        else:
            target["value"] = value
    return merged


def merge_custom(current: list[Record], values: dict[str | int, Any]) -> list[Record]:
    """Return the whole ``customFields`` array with new values (the API wants all of it).

    Raises:
        RowError: a custom field named in the mapping does not exist on the record.
    """
    merged = [dict(item) for item in current]
    for wanted, value in values.items():
        target = next(
            (
                item
                for item in merged
                if item.get("id") == wanted
                or (
                    isinstance(wanted, str)
                    and str(item.get("caption", "")).casefold() == wanted.casefold()
                )
            ),
            None,
        )
        if target is None:
            raise RowError(f"custom field {wanted!r} does not exist on this ConnectWise record")
        target["value"] = value
    return merged


def replace_operations(body: Record) -> list[Record]:
    """Return the PATCH operations that set every top-level field of ``body``."""
    return [{"op": "replace", "path": name, "value": value} for name, value in body.items()]


def _set_path(body: Record, path: str, value: Any) -> None:
    parts = path.split("/")
    target = body
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value
