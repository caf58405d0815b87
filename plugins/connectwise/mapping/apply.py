"""Apply a mapping to raw ConnectWise records: one typed row per record, or a rejection."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson

from connectwise.entities import Entity
from connectwise.mapping.load import Mapping
from connectwise.mapping.models import ColumnType, FieldSpec, MappingConfig
from connectwise.mapping.transforms import TRANSFORMS, value_at
from connectwise.staging.records import Rejection, record_hash
from connectwise.values import parse_boolean, parse_datetime, parse_money

Record = dict[str, Any]
Getter = Callable[[Record], Any]
Converter = Callable[[Any], Any]


_INT64_MAX = 2**63 - 1
SHOWN_VALUE_CHARS = 200


def shown_value(value: Any) -> str | None:
    """Write a failing value for ``Rejection.value``: text and money as is, the rest as Python."""
    if value is None:
        return None
    text = str(value) if isinstance(value, str | Decimal) else repr(value)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[: SHOWN_VALUE_CHARS - 3] + "..."


class CoercionError(ValueError):
    """A source value does not fit its column type."""

    def __init__(self, message: str, *, problem: str | None = None, value: Any = None) -> None:
        """Say what failed; ``problem`` leaves the record's own ``value`` out of it."""
        super().__init__(message)
        self.problem = problem or message
        self.value = value


def canonical_json(record: Any) -> str:
    """Serialise a record the same way every time (for storage and change detection).

    Sorted keys, no spaces, non-ASCII kept: byte for byte what ``json.dumps(sort_keys=True,
    ensure_ascii=False, separators=(",", ":"))`` writes, so hashes of staged records stay
    valid. orjson writes it six times faster; the standard library takes over for what orjson
    refuses (integers beyond 64 bits, non-string keys, NaN).
    """
    try:
        text = orjson.dumps(record, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        text = _stdlib_json(record)
    if "\\u0000" in text:  # rare: only then pay for a walk over the record
        text = _stdlib_json(_without_nul(record))
    return text


def _stdlib_json(record: Any) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _without_nul(value: Any) -> Any:
    # PostgreSQL refuses NUL in text and JSONB; django-connectwise strips it too (API facts §10).
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {key: _without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    return value


class RecordMapper:
    """Turn raw records of one entity into staging rows, per the mapping's field map."""

    def __init__(self, entity: Entity, mapping: Mapping) -> None:
        self.entity = entity
        self.mapping = mapping
        self.columns: dict[str, ColumnType] = {}
        self._fields: list[tuple[str, ColumnType, Getter, Converter]] = []
        for column, spec in mapping.fields_of(entity.mapping_section).items():
            self.columns[column] = spec.type
            self._fields.append(
                (column, spec.type, _getter(spec, mapping.config), _CONVERTERS[spec.type])
            )

    def map_records(self, records: Iterable[Record]) -> tuple[list[Record], list[Rejection]]:
        """Map ``records``; a record that cannot be mapped is rejected with its reason."""
        rows: list[Record] = []
        rejections: list[Rejection] = []
        for record in records:
            raw = canonical_json(record)
            try:
                rows.append(self.map_record(record, raw))
            except CoercionError as exc:
                rejections.append(
                    Rejection(
                        _record_id(record, self.entity.primary_key),
                        "mapping",
                        str(exc),
                        raw,
                        exc.problem,
                        shown_value(exc.value),
                    )
                )
        return rows, rejections

    def map_record(self, record: Record, raw: str | None = None) -> Record:
        """Map one record.

        Raises:
            CoercionError: the id is missing or a value does not fit its column type.
        """
        raw = raw if raw is not None else canonical_json(record)
        key = self.entity.primary_key
        record_id = _record_id(record, key)
        if record_id is None:
            raise CoercionError(f"record has no usable {key!r}")
        row: Record = {
            "id": record_id,
            "raw": raw,
            "record_hash": record_hash(raw),
            "last_updated": _last_updated(record, self.entity.cursor_field),
            "mapping_version": self.mapping.version,
        }
        for column, column_type, getter, convert in self._fields:
            value = getter(record)
            if value is not None:
                try:
                    value = convert(value)
                except (TypeError, ValueError, OverflowError):
                    raise CoercionError(
                        f"column {column!r}: {_not_valid(value, column_type)}",
                        problem=f"column {column!r}: the value is not {_a_valid(column_type)}",
                        value=value,
                    ) from None
            row[column] = value
        return row


def _getter(spec: FieldSpec, config: MappingConfig) -> Getter:
    if spec.transform:
        transform = TRANSFORMS[spec.transform]
        return lambda record: transform(record, config)
    if spec.custom_field is not None:
        wanted = spec.custom_field
        return lambda record: custom_field_value(record, wanted)
    path = spec.source or ""
    if "/" not in path:  # most fields are top-level: skip the walk
        return lambda record: record.get(path)
    return lambda record: value_at(record, path)


def custom_field_value(record: Record, wanted: str | int) -> Any:
    """Return a custom field's value, found by id (int) or caption (case-insensitive)."""
    for item in record.get("customFields") or []:
        if not isinstance(item, dict):
            continue
        if isinstance(wanted, int) and item.get("id") == wanted:
            return item.get("value")
        if isinstance(wanted, str) and str(item.get("caption", "")).casefold() == wanted.casefold():
            return item.get("value")
    return None


def _record_id(record: Any, key: str) -> int | None:
    value = record.get(key) if isinstance(record, dict) else None
    if value is None:
        return None
    try:
        return _integer(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _last_updated(record: Record, cursor: str) -> datetime | None:
    # ConnectWise keeps the cursor in ``_info``; conditions name it without the prefix.
    info = record.get("_info")
    value = info.get(cursor) if isinstance(info, dict) else None
    try:
        return parse_datetime(value) if value is not None else None
    except (TypeError, ValueError, AttributeError):
        raise CoercionError(
            f"_info/{cursor} {value!r} is not a valid timestamp",
            problem=f"_info/{cursor} is not a valid timestamp",
            value=value,
        ) from None


def coerce(value: Any, column_type: ColumnType) -> Any:
    """Convert a JSON value to the column's Python type (``money`` is an exact ``Decimal``).

    Raises:
        CoercionError: the value cannot be represented in that type.
    """
    if value is None:
        return None
    converter = _CONVERTERS[column_type]
    try:
        return converter(value)
    except (TypeError, ValueError, OverflowError):
        raise CoercionError(_not_valid(value, column_type)) from None


def _not_valid(value: Any, column_type: ColumnType) -> str:
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    return f"{shown} is not {_a_valid(column_type)}"


def _a_valid(column_type: ColumnType) -> str:
    return "a valid amount (money)" if column_type == "money" else f"a valid {column_type}"


def _text(value: Any) -> str:
    # PostgreSQL text cannot hold NUL; django-connectwise strips it too (API facts §10).
    if type(value) is str:  # the common case, first
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict | list):
        return canonical_json(value)
    return str(value).replace("\x00", "")


def _integer(value: Any) -> int:
    if type(value) is int and -_INT64_MAX <= value <= _INT64_MAX:  # the common case, first
        return value
    if isinstance(value, bool):
        raise TypeError("boolean")
    if isinstance(value, str) and not value.strip().lstrip("+-").isdigit():
        value = float(value)  # "12.0" is an integer written as a decimal; "1.5" is not
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("fraction")
    number = int(value)
    if abs(number) > _INT64_MAX:
        raise OverflowError("too large")
    return number


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError("boolean")
    return float(value)


def _timestamp(value: Any) -> datetime:
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise ValueError("empty")
    return parsed


_CONVERTERS: dict[str, Converter] = {
    "text": _text,
    "integer": _integer,
    "number": _number,
    "money": parse_money,
    "boolean": parse_boolean,
    "timestamp": _timestamp,
    "json": canonical_json,
}
