"""Claim outbox rows, and record what pushing them did.

A claimed row is marked ``sending`` with its ``push_key`` *before* anything is written to
ConnectWise, in a committed transaction. A row still ``sending`` later (a lost response, a 5xx
on a write, a killed worker) is therefore known to be in flight: its next push, due at
``next_attempt_at``, looks the record up by that key before it writes again
(docs/write-back.md, "Idempotency").
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from connectwise.staging.database import is_postgres, utc_now
from connectwise.staging.writer import sql_value

Row = dict[str, Any]
Status = Literal["sent", "failed", "skipped", "sending"]
CLAIMABLE = ("pending", "sending")
# Rows a run takes: new or reset ones, and those in flight whose back-off is over.
DUE = (
    "(status = 'pending' OR (status = 'sending' AND "
    "(next_attempt_at IS NULL OR next_attempt_at <= :now)))"
)
MAX_RETRY_DELAY_SECONDS = 86_400


class RowError(Exception):
    """The row cannot be pushed as it is (validation, unknown reference): it fails."""


class RowSkipped(Exception):
    """The row is not pushed on purpose (e.g. its contact is missing on one side).

    ``report`` puts the reason in the run's report too (e.g. an unmapped stage).
    """

    def __init__(self, reason: str, *, report: bool = False) -> None:
        super().__init__(reason)
        self.report = report


@dataclass
class Claim:
    """A claimed batch, and how many rows failed for having used up their attempts."""

    rows: list[Row]
    gave_up: int
    last_id: int


@dataclass
class Outcome:
    """What pushing one row did; ``columns`` are ConnectWise ids to store on the row."""

    row_id: int
    status: Status
    error: str | None = None
    columns: dict[str, Any] = field(default_factory=dict)
    created: int = 0
    updated: int = 0
    report: str | None = None
    next_attempt_at: datetime | None = None


def push_tag(push_key: str) -> str:
    """Return the marker written into records created for a row (found again by a retry)."""
    return f"[cw-push {push_key}]"


def retry_later(row: Row, error: str, *, max_attempts: int, delay_seconds: int) -> Outcome:
    """Keep a row whose write may have been applied in flight, or fail it out of attempts.

    Its next push looks the record up by the row's push key before writing again; the wait
    before it doubles with each attempt (at most a day).
    """
    attempts = int(row["attempts"])
    if attempts >= max_attempts:
        message = f"gave up after {attempts} attempts; last error: {error}"
        return Outcome(row["id"], "failed", error=message)
    wait = min(delay_seconds * 2 ** (attempts - 1), MAX_RETRY_DELAY_SECONDS)
    due = _whole_seconds(utc_now()) + timedelta(seconds=wait)
    return Outcome(row["id"], "sending", error=error, next_attempt_at=due)


def claim(engine: Engine, table: str, *, after_id: int, limit: int, max_attempts: int) -> Claim:
    """Mark the next ``limit`` due rows ``sending`` and return them.

    Each returned row has ``resumed`` set when an earlier push of it started (it has a push
    key already), so the caller looks its records up before creating any. Rows left in flight
    that used up ``max_attempts`` fail instead of being claimed. A row set (back) to
    ``pending`` starts a new series of attempts.
    """
    postgres = is_postgres(engine)
    now = sql_value(utc_now(), postgres=postgres)
    due = sql_value(_whole_seconds(utc_now()), postgres=postgres)
    with engine.begin() as connection:
        rows = [
            dict(row)
            for row in connection.execute(
                sa.text(
                    f"SELECT * FROM {table} WHERE {DUE} AND id > :after ORDER BY id LIMIT :limit"
                ),
                {"after": after_id, "limit": limit, "now": due},
            ).mappings()
        ]
        # Only rows left in flight count against the limit: a row a person set back to
        # 'pending' gets its chance.
        exhausted = [
            row for row in rows if row["status"] == "sending" and row["attempts"] >= max_attempts
        ]
        _give_up(connection, table, exhausted, max_attempts, now)
        claimed = [row for row in rows if row not in exhausted]
        _mark_sending(connection, table, claimed, now)
    last_id = max((row["id"] for row in rows), default=after_id)
    return Claim(rows=claimed, gave_up=len(exhausted), last_id=last_id)


def _give_up(
    connection: Connection, table: str, rows: list[Row], max_attempts: int, now: Any
) -> None:
    if not rows:
        return
    connection.execute(
        sa.text(
            f"UPDATE {table} SET status = 'failed', updated_at = :now, last_error = "
            f"'gave up after {max_attempts} attempts; last error: ' || "
            "COALESCE(last_error, 'none') WHERE id = :id"
        ),
        [{"id": row["id"], "now": now} for row in rows],
    )


def _mark_sending(connection: Connection, table: str, rows: list[Row], now: Any) -> None:
    """Give each claimed row its push key (kept across attempts) and count the attempt."""
    for row in rows:
        row["resumed"] = row["push_key"] is not None
        row["push_key"] = row["push_key"] or uuid.uuid4().hex
        row["attempts"] = 1 if row["status"] == "pending" else row["attempts"] + 1
    if not rows:
        return
    connection.execute(
        sa.text(
            f"UPDATE {table} SET status = 'sending', attempts = :attempts, "
            "push_key = :push_key, next_attempt_at = NULL, updated_at = :now WHERE id = :id"
        ),
        [
            {"id": row["id"], "attempts": row["attempts"], "push_key": row["push_key"], "now": now}
            for row in rows
        ],
    )


def count_claimable(engine: Engine, table: str) -> int:
    """Return how many rows are due to be pushed now."""
    due = sql_value(_whole_seconds(utc_now()), postgres=is_postgres(engine))
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.text(f"SELECT COUNT(*) FROM {table} WHERE {DUE}"), {"now": due}
            ).scalar()
            or 0
        )


def save_columns(engine: Engine, table: str, row_id: int, columns: dict[str, Any]) -> None:
    """Store ConnectWise ids on a row at once (before the next write depends on them)."""
    save_columns_where(engine, table, {"id": row_id}, columns)


def save_columns_where(
    engine: Engine, table: str, keys: dict[str, Any], columns: dict[str, Any]
) -> None:
    """Store ``columns`` on the rows whose key columns equal ``keys`` (e.g. one quote line)."""
    if not columns:
        return
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    where = " AND ".join(f"{name} = :key_{name}" for name in keys)
    with engine.begin() as connection:
        connection.execute(
            sa.text(f"UPDATE {table} SET {assignments} WHERE {where}"),
            {**columns, **{f"key_{name}": value for name, value in keys.items()}},
        )


def rows_where(engine: Engine, table: str, column: str, value: Any, order_by: str) -> list[Row]:
    """Return the rows of ``table`` whose ``column`` equals ``value`` (e.g. a quote's lines)."""
    with engine.connect() as connection:
        result = connection.execute(
            sa.text(f"SELECT * FROM {table} WHERE {column} = :value ORDER BY {order_by}"),
            {"value": value},
        )
        return [dict(row) for row in result.mappings()]


def record(engine: Engine, table: str, outcomes: Iterable[Outcome]) -> None:
    """Write the outcomes of pushed rows in one transaction."""
    postgres = is_postgres(engine)
    now = sql_value(utc_now(), postgres=postgres)
    with engine.begin() as connection:
        for outcome in outcomes:
            values = {
                **outcome.columns,
                "status": outcome.status,
                "last_error": outcome.error[:4000] if outcome.error else None,
                "next_attempt_at": sql_value(outcome.next_attempt_at, postgres=postgres),
                "updated_at": now,
            }
            if outcome.status == "sent":
                values["sent_at"] = now
            assignments = ", ".join(f"{name} = :{name}" for name in values)
            connection.execute(
                sa.text(f"UPDATE {table} SET {assignments} WHERE id = :row_id"),
                {**values, "row_id": outcome.row_id},
            )


def _whole_seconds(moment: datetime) -> datetime:
    # SQLite keeps timestamps as text that sorts in time order only to the second.
    return moment.replace(microsecond=0)
