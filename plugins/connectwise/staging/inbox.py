"""The callback inbox (``meta_callback_inbox``): accepted deliveries, waiting to be applied.

The receiver commits a delivery here before answering 2xx, so an accepted delivery survives
any crash; the unique ``message_key`` makes a delivery ConnectWise sends twice one row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectwise.staging.database import is_postgres, utc_now
from connectwise.staging.writer import sql_value

PENDING, APPLIED, SUPERSEDED, IGNORED, FAILED = (
    "pending",
    "applied",
    "superseded",
    "ignored",
    "failed",
)


@dataclass(frozen=True)
class Arrival:
    """One delivery as the inbox stores it; ``entity`` None: no synced entity listens to it."""

    message_key: str
    callback_type: str
    action: str
    record_id: int
    entity: str | None
    callback_id: int | None
    payload: str


def store(engine: Engine, arrival: Arrival) -> bool:
    """Commit a delivery (``pending``, or ``ignored`` without an entity); False: a duplicate."""
    postgres = is_postgres(engine)
    with engine.begin() as connection:
        inserted = connection.execute(
            sa.text(
                "INSERT INTO meta_callback_inbox (message_key, received_at, callback_type, "
                "action, record_id, entity, callback_id, payload, status) VALUES (:key, :at, "
                ":type, :action, :record_id, :entity, :callback_id, :payload, :status) "
                "ON CONFLICT (message_key) DO NOTHING"
            ),
            {
                "key": arrival.message_key,
                "at": sql_value(utc_now(), postgres=postgres),
                "type": arrival.callback_type,
                "action": arrival.action,
                "record_id": arrival.record_id,
                "entity": arrival.entity,
                "callback_id": arrival.callback_id,
                "payload": arrival.payload,
                "status": PENDING if arrival.entity else IGNORED,
            },
        ).rowcount
    return bool(inserted)


@dataclass(frozen=True)
class InboxRow:
    """One pending delivery, as the processor reads it."""

    id: int
    entity: str
    action: str
    record_id: int
    attempts: int
    payload: str


def pending(engine: Engine, limit: int) -> list[InboxRow]:
    """Return the oldest pending deliveries, in the order they were accepted."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT id, entity, action, record_id, attempts, payload FROM "
                "meta_callback_inbox WHERE status = :pending ORDER BY id LIMIT :limit"
            ),
            {"pending": PENDING, "limit": limit},
        ).all()
    return [InboxRow(int(r[0]), r[1], r[2], int(r[3]), int(r[4]), r[5]) for r in rows]


def mark(engine: Engine, ids: list[int], status: str, run_id: str) -> None:
    """Close deliveries as applied, superseded or failed."""
    at = sql_value(utc_now(), postgres=is_postgres(engine))
    _update(
        engine, ids, "status = :status, processed_at = :at", status=status, at=at, run_id=run_id
    )


def record_failure(engine: Engine, ids: list[int], error: str, run_id: str) -> None:
    """Count a failed attempt on deliveries that stay pending."""
    _update(
        engine,
        ids,
        "attempts = attempts + 1, last_error = :error",
        error=error[:2000],
        run_id=run_id,
    )


def _update(engine: Engine, ids: list[int], assignments: str, **values: Any) -> None:
    if not ids:
        return
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                f"UPDATE meta_callback_inbox SET {assignments}, run_id = :run_id WHERE id IN :ids"
            ).bindparams(sa.bindparam("ids", expanding=True)),
            {**values, "ids": ids},
        )


def backlog(engine: Engine) -> dict[str, int]:
    """Deliveries per status (for the run summary and the operator)."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT status, COUNT(*) FROM meta_callback_inbox GROUP BY status")
        ).all()
    return {str(status): int(count) for status, count in rows}
