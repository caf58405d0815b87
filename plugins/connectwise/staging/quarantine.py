"""Quarantine: records that failed to map or failed a check, one open row per record."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from connectwise.staging.database import is_postgres, utc_now
from connectwise.staging.records import Rejection, record_hash
from connectwise.staging.writer import members, one_of, sql_value


def quarantine(
    connection: Connection, entity: str, rejections: Iterable[Rejection], run_id: str
) -> int:
    """Record rejected records (one open row per record, latest reason wins); return count.

    A rejection without a ``problem`` (a callback delivery given up) is listed by its reason.
    """
    postgres = is_postgres(connection.engine)
    now = sql_value(utc_now(), postgres=postgres)
    rows = [
        {
            "entity": entity,
            "record_key": str(item.record_id)
            if item.record_id is not None
            else f"hash:{record_hash(item.payload)}",
            "record_id": item.record_id,
            "run_id": run_id,
            "check_name": item.check,
            "reason": item.reason,
            "problem": item.problem or item.reason,
            "offending_value": item.value,
            "payload": item.payload,
            "quarantined_at": now,
        }
        for item in rejections
    ]
    if not rows:
        return 0
    payload = "CAST(:payload AS JSONB)" if postgres else ":payload"
    connection.execute(
        sa.text(
            "INSERT INTO meta_quarantine (entity, record_key, record_id, run_id, check_name, "
            "reason, problem, offending_value, payload, quarantined_at) VALUES (:entity, "
            ":record_key, :record_id, :run_id, :check_name, :reason, :problem, "
            f":offending_value, {payload}, :quarantined_at) "
            "ON CONFLICT (entity, record_key) DO UPDATE SET run_id = excluded.run_id, "
            "check_name = excluded.check_name, reason = excluded.reason, "
            "problem = excluded.problem, offending_value = excluded.offending_value, "
            "payload = excluded.payload, quarantined_at = excluded.quarantined_at, "
            "resolved_at = NULL"
        ),
        rows,
    )
    return len(rows)


def has_open_quarantine(connection: Connection, entity: str) -> bool:
    """Tell whether ``entity`` has open quarantine rows (none: loads need not resolve any)."""
    found = connection.execute(
        sa.text(
            "SELECT 1 FROM meta_quarantine WHERE entity = :entity AND resolved_at IS NULL LIMIT 1"
        ),
        {"entity": entity},
    )
    return found.first() is not None


def resolve_quarantine(connection: Connection, entity: str, record_ids: Iterable[int]) -> None:
    """Mark open quarantine rows of records that have now loaded as resolved."""
    keys = [str(int(record_id)) for record_id in record_ids]  # record_key is the id as text
    if not keys:
        return
    postgres = is_postgres(connection.engine)
    connection.execute(
        sa.text(
            "UPDATE meta_quarantine SET resolved_at = :now WHERE entity = :entity "
            f"AND resolved_at IS NULL AND {one_of('record_key', postgres=postgres)}"
        ),
        {
            "now": sql_value(utc_now(), postgres=postgres),
            "entity": entity,
            "members": members(keys, postgres=postgres),
        },
    )
