"""Open quarantine as the Issues page and re-mapping read it.

Quarantined records are listed by problem: ``meta_quarantine.problem`` is the reason without
the record's own values, written by the check that failed (``quality/checks.py``), so records
with one problem form one group whatever their ids or e-mail addresses, while each unmapped
ConnectWise value (part of the problem) forms a group of its own. Rows written before problems
were recorded are grouped by their reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectwise.staging.database import is_postgres
from connectwise.staging.history import as_datetime

PROBLEM = "COALESCE(problem, reason)"  # rows from before migration 0012 have no problem
PAYLOAD_PAGE_ROWS = 1000


@dataclass(frozen=True)
class QuarantinedRecord:
    """One open quarantine row, as an example of its group."""

    record_key: str
    record_id: int | None
    value: str | None
    reason: str
    payload: Any  # the decoded JSON: normally the raw ConnectWise record
    quarantined_at: datetime | None


@dataclass(frozen=True)
class QuarantineGroup:
    """Open quarantine rows of one entity that share a check and a problem."""

    entity: str
    check_name: str
    problem: str
    count: int
    first_quarantined_at: datetime | None
    last_quarantined_at: datetime | None
    examples: tuple[QuarantinedRecord, ...]


def open_quarantine_groups(engine: Engine, examples: int = 3) -> list[QuarantineGroup]:
    """Return the open quarantine grouped by entity, check and problem, largest first.

    Each group carries up to ``examples`` of its rows, the most recently quarantined first.

    Raises:
        ValueError: ``examples`` is negative.
        sqlalchemy.exc.SQLAlchemyError: the staging database cannot be read.
    """
    if examples < 0:
        raise ValueError(f"examples must be 0 or more, not {examples}")
    with engine.connect() as connection:
        groups = connection.execute(
            sa.text(
                f"SELECT entity, check_name, {PROBLEM}, COUNT(*), MIN(quarantined_at), "
                "MAX(quarantined_at) FROM meta_quarantine WHERE resolved_at IS NULL "
                f"GROUP BY entity, check_name, {PROBLEM} "
                f"ORDER BY entity, COUNT(*) DESC, {PROBLEM}"
            )
        ).all()
        shown = _examples(connection, examples) if examples and groups else {}
    return [
        QuarantineGroup(
            entity=entity,
            check_name=check_name,
            problem=problem,
            count=int(count),
            first_quarantined_at=as_datetime(first),
            last_quarantined_at=as_datetime(last),
            examples=tuple(shown.get((entity, check_name, problem), ())),
        )
        for entity, check_name, problem, count, first, last in groups
    ]


def _examples(
    connection: sa.Connection, examples: int
) -> dict[tuple[str, str, str], list[QuarantinedRecord]]:
    rows = connection.execute(
        sa.text(
            "SELECT entity, check_name, problem_key, record_key, record_id, offending_value, "
            "reason, payload, quarantined_at FROM ("
            f"SELECT q.*, {PROBLEM} AS problem_key, ROW_NUMBER() OVER ("
            f"PARTITION BY entity, check_name, {PROBLEM} "
            "ORDER BY quarantined_at DESC, record_key) AS position "
            "FROM meta_quarantine q WHERE resolved_at IS NULL) ranked "
            "WHERE position <= :examples ORDER BY position"
        ),
        {"examples": examples},
    )
    postgres = is_postgres(connection.engine)
    found: dict[tuple[str, str, str], list[QuarantinedRecord]] = {}
    for entity, check_name, problem, key, record_id, value, reason, payload, at in rows:
        found.setdefault((entity, check_name, problem), []).append(
            QuarantinedRecord(
                record_key=key,
                record_id=None if record_id is None else int(record_id),
                value=value,
                reason=reason,
                payload=_decoded(payload, postgres=postgres),
                quarantined_at=as_datetime(at),
            )
        )
    return found


@dataclass(frozen=True)
class HeldRecord:
    """An open quarantine row of one entity, beside what staging holds of the same record."""

    record_key: str
    record_id: int | None
    is_record: bool  # the payload is a JSON object whose id is the row's record_id
    last_updated: datetime | None  # the payload's _info/lastUpdated
    quarantined_at: datetime | None
    is_staged: bool
    staged_last_updated: datetime | None
    staged_deleted_at: datetime | None


def held_records(engine: Engine, entity: str, table: str) -> list[HeldRecord]:
    """Return the open quarantine rows of ``entity`` with the staged state of each record.

    Payloads are not read (see :func:`held_payloads`): a row takes a few dozen bytes here,
    however large its record. ``table`` is the entity's staging table.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the staging database cannot be read.
    """
    if is_postgres(engine):
        kind, record_id, updated = (
            "jsonb_typeof(q.payload)",
            "q.payload->>'id'",
            "q.payload->'_info'->>'lastUpdated'",
        )
    else:  # SQLite: json_type and json_extract raise on text that is not JSON
        kind, record_id, updated = (
            f"CASE WHEN json_valid(q.payload) THEN {expression} END"
            for expression in (
                "json_type(q.payload)",
                "json_extract(q.payload, '$.id')",
                "json_extract(q.payload, '$._info.lastUpdated')",
            )
        )
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                f"SELECT q.record_key, q.record_id, {kind}, {record_id}, {updated}, "
                "q.quarantined_at, s.id IS NOT NULL, s.last_updated, s.deleted_at "
                f"FROM meta_quarantine q LEFT JOIN {table} s ON s.id = q.record_id "
                "WHERE q.entity = :entity AND q.resolved_at IS NULL ORDER BY q.record_key"
            ),
            {"entity": entity},
        ).all()
    return [
        HeldRecord(
            record_key=key,
            record_id=None if held_id is None else int(held_id),
            is_record=kind == "object" and _same_id(payload_id, held_id),
            last_updated=_timestamp(updated),
            quarantined_at=as_datetime(at),
            is_staged=bool(staged),
            staged_last_updated=as_datetime(staged_updated),
            staged_deleted_at=as_datetime(deleted),
        )
        for key, held_id, kind, payload_id, updated, at, staged, staged_updated, deleted in rows
    ]


def held_payloads(engine: Engine, entity: str, keys: set[str]) -> Iterator[list[Any]]:
    """Yield the payloads of the open quarantine rows with these keys, a page at a time.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the staging database cannot be read.
    """
    postgres = is_postgres(engine)
    wanted = sorted(keys)
    for start in range(0, len(wanted), PAYLOAD_PAGE_ROWS):
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT payload FROM meta_quarantine WHERE entity = :entity "
                    "AND resolved_at IS NULL AND record_key IN :keys ORDER BY record_key"
                ).bindparams(sa.bindparam("keys", expanding=True)),
                {"entity": entity, "keys": wanted[start : start + PAYLOAD_PAGE_ROWS]},
            ).all()
        if rows:
            yield [_decoded(payload, postgres=postgres) for (payload,) in rows]


def _same_id(payload_id: Any, record_id: Any) -> bool:
    try:
        return record_id is not None and float(payload_id) == float(record_id)
    except (TypeError, ValueError):
        return False


def _timestamp(value: Any) -> datetime | None:
    try:
        return as_datetime(value)
    except ValueError:
        return None  # not a timestamp: the mapper quarantines the record again, saying so


def _decoded(payload: Any, *, postgres: bool) -> Any:
    """PostgreSQL hands JSONB over decoded; SQLite keeps the JSON text."""
    if postgres or not isinstance(payload, str):
        return payload
    try:
        return json.loads(payload)
    except ValueError:
        return payload  # not JSON: shown and judged as the text it is
