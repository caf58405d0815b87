"""Sync health as the operator console shows it: read-only queries over the meta tables.

Everything here reads what the syncs, the callback receiver and the push already record
(``v_sync_freshness``, ``meta_sync_runs``, ``meta_callback_inbox``, the outbox tables,
``meta_preflight``); nothing is computed twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectwise.staging.history import as_datetime

RECENT_RUNS = 12


@dataclass(frozen=True)
class RunFigures:
    """One finished or running sync of one entity."""

    run_id: str
    mode: str
    status: str
    started_at: datetime | None
    duration_seconds: float | None
    records: int
    http_requests: int
    error: str | None


@dataclass(frozen=True)
class EntityHealth:
    """One entity's row of the console: freshness, size, problems and its recent runs."""

    entity: str
    last_success_at: datetime | None
    watermark: datetime | None
    rows: int
    soft_deleted: int
    quarantined: int
    last_run_status: str | None
    last_error: str | None
    recent: tuple[RunFigures, ...] = ()


@dataclass(frozen=True)
class QueueHealth:
    """A work queue (the callback inbox, one outbox): what waits and what gave up."""

    name: str
    pending: int
    failed: int
    oldest_pending_at: datetime | None


@dataclass(frozen=True)
class PreflightLine:
    """One line of the latest preflight checklist."""

    kind: str
    name: str
    ok: bool
    required: bool
    detail: str
    fix: str | None
    checked_at: datetime | None


def entity_health(engine: Engine, entities: list[str]) -> list[EntityHealth]:
    """Per entity (in the order given): ``v_sync_freshness`` plus the latest runs."""
    with engine.connect() as connection:
        fresh = {
            row.entity: row
            for row in connection.execute(
                sa.text(
                    "SELECT entity, last_success_at, watermark, row_count, soft_deleted, "
                    "quarantined, last_run_status, last_error FROM v_sync_freshness"
                )
            )
        }
        recent = _recent_runs(connection)
    found = []
    for name in entities:
        row = fresh.get(name)
        found.append(
            EntityHealth(
                entity=name,
                last_success_at=as_datetime(row.last_success_at) if row else None,
                watermark=as_datetime(row.watermark) if row else None,
                rows=int(row.row_count or 0) if row else 0,
                soft_deleted=int(row.soft_deleted or 0) if row else 0,
                quarantined=int(row.quarantined or 0) if row else 0,
                last_run_status=row.last_run_status if row else None,
                last_error=row.last_error if row else None,
                recent=tuple(recent.get(name, ())),
            )
        )
    return found


def _recent_runs(connection: sa.Connection) -> dict[str, list[RunFigures]]:
    # The latest runs of every entity, oldest first (the order a chart reads).
    rows = connection.execute(
        sa.text(
            "SELECT entity, run_id, mode, status, started_at, duration_seconds, fetched, "
            "http_requests, error FROM (SELECT r.*, ROW_NUMBER() OVER (PARTITION BY entity "
            "ORDER BY started_at DESC) AS position FROM meta_sync_runs r) ranked "
            "WHERE position <= :limit ORDER BY entity, started_at"
        ),
        {"limit": RECENT_RUNS},
    )
    runs: dict[str, list[RunFigures]] = {}
    for row in rows:
        runs.setdefault(row.entity, []).append(
            RunFigures(
                run_id=row.run_id,
                mode=row.mode,
                status=row.status,
                started_at=as_datetime(row.started_at),
                duration_seconds=float(row.duration_seconds)
                if row.duration_seconds is not None
                else None,
                records=int(row.fetched or 0),
                http_requests=int(row.http_requests or 0),
                error=row.error,
            )
        )
    return runs


def inbox_health(engine: Engine) -> QueueHealth:
    """Read the callback inbox: deliveries waiting to be applied and those given up on."""
    return _queue(engine, "callback inbox", "meta_callback_inbox", "received_at")


def outbox_health(engine: Engine, tables: Mapping[str, str]) -> list[QueueHealth]:
    """Each write-back flow's outbox (flow name → table): rows to push and failed rows."""
    return [_queue(engine, flow, table, "created_at") for flow, table in tables.items()]


def _queue(engine: Engine, name: str, table: str, created: str) -> QueueHealth:
    with engine.connect() as connection:
        pending, failed, oldest = connection.execute(
            sa.text(
                "SELECT COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0), "
                "COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0), "
                f"MIN(CASE WHEN status = 'pending' THEN {created} END) FROM {table}"
            )
        ).one()
    return QueueHealth(name, int(pending), int(failed), as_datetime(oldest))


def latest_preflight(engine: Engine) -> list[PreflightLine]:
    """Read the checklist of the most recent preflight run (empty before the first)."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT kind, name, ok, required, detail, fix, checked_at FROM meta_preflight "
                "WHERE run_id = (SELECT run_id FROM meta_preflight ORDER BY checked_at DESC "
                "LIMIT 1) ORDER BY ok, required DESC, kind, name"
            )
        )
        return [
            PreflightLine(
                kind=row.kind,
                name=row.name,
                ok=bool(row.ok),
                required=bool(row.required),
                detail=row.detail,
                fix=row.fix,
                checked_at=as_datetime(row.checked_at),
            )
            for row in rows
        ]
