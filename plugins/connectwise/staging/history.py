"""Run history, watermarks and mapping versions in the meta tables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from connectwise.staging.database import is_postgres, utc_now
from connectwise.staging.writer import sql_value


@dataclass
class RunFigures:
    """The figures of one entity's sync, as written to ``meta_sync_runs``."""

    fetched: int = 0
    filtered: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    deleted: int = 0
    pages: int = 0
    http_requests: int = 0
    retries: int = 0
    throttled: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Counters only (safe to return from a task)."""
        figures = asdict(self)
        figures.pop("extra")
        return figures


class RequestCounts(Protocol):
    """A client's request statistics (``RequestStats``): counters since it was created."""

    def snapshot(self) -> dict[str, float]:
        """Return ``requests``, ``retries``, ``throttled`` and ``wait_seconds`` so far."""


class CountedFigures(Protocol):
    """Figures that carry the requests a run sent."""

    http_requests: int
    retries: int
    throttled: int


class RunRecord(Protocol):
    """One run-history row from start to finish (:class:`SyncRun`, ``PushRun``)."""

    @property
    def figures(self) -> CountedFigures:
        """The run's figures, filled in by the work the bracket holds."""

    def start(self) -> None:
        """Write the row as running (on a task retry, reset it)."""

    def finish(self, status: str, error: str | None) -> None:
        """Write the row's status, figures and error."""


Run = TypeVar("Run", bound=RunRecord)


@contextmanager
def run_history(run: Run, stats: RequestCounts) -> Iterator[Run]:
    """Bracket a run: its row is written before the work and finished after it, whatever happens.

    The requests the client sent meanwhile (and its retries and throttled answers) go into the
    figures; an exception finishes the row as failed with its message and propagates.
    """
    run.start()
    before = stats.snapshot()
    try:
        yield run
    except BaseException as exc:
        _count_requests(run.figures, before, stats.snapshot())
        run.finish("failed", str(exc))
        raise
    _count_requests(run.figures, before, stats.snapshot())
    run.finish("success", None)


def _count_requests(
    figures: CountedFigures, before: dict[str, float], after: dict[str, float]
) -> None:
    figures.http_requests = int(after["requests"] - before["requests"])
    figures.retries = int(after["retries"] - before["retries"])
    figures.throttled = int(after["throttled"] - before["throttled"])


@dataclass
class SyncRun:
    """One ``meta_sync_runs`` row: an entity's sync or reconciliation.

    ``watermark``, set by a successful full or incremental sync, moves in the transaction that
    finishes the row, so it never runs ahead of what committed.
    """

    engine: Engine
    run_id: str
    entity: str
    mode: str
    mapping_version: str
    watermark_from: datetime | None = None
    figures: RunFigures = field(default_factory=RunFigures)
    watermark: datetime | None = None
    started: datetime = field(default_factory=utc_now)

    def start(self) -> None:
        """Write the row as running."""
        self.started = start_run(
            self.engine,
            run_id=self.run_id,
            entity=self.entity,
            mode=self.mode,
            mapping_version=self.mapping_version,
            watermark_from=self.watermark_from,
        )

    def finish(self, status: str, error: str | None) -> None:
        """Write the figures and status; on success, move the watermark with them."""
        moved = self.watermark if status == "success" else None
        with self.engine.begin() as connection:
            if moved is not None:
                set_watermark(
                    connection,
                    entity=self.entity,
                    watermark=moved,
                    run_id=self.run_id,
                    full=self.mode == "full",
                )
            finish_run(
                connection,
                run_id=self.run_id,
                entity=self.entity,
                started=self.started,
                figures=self.figures,
                status=status,
                error=error,
                watermark_to=moved,
            )


def start_run(
    engine: Engine,
    *,
    run_id: str,
    entity: str,
    mode: str,
    mapping_version: str,
    watermark_from: datetime | None,
) -> datetime:
    """Insert (or, on a task retry, reset) the run-history row; return the start time."""
    started = utc_now()
    postgres = is_postgres(engine)
    with engine.begin() as connection:
        attempt = connection.execute(
            sa.text(
                "SELECT attempt FROM meta_sync_runs WHERE run_id = :run_id AND entity = :entity"
            ),
            {"run_id": run_id, "entity": entity},
        ).scalar()
        connection.execute(
            sa.text("DELETE FROM meta_sync_runs WHERE run_id = :run_id AND entity = :entity"),
            {"run_id": run_id, "entity": entity},
        )
        connection.execute(
            sa.text(
                "INSERT INTO meta_sync_runs (run_id, entity, mode, status, attempt, started_at, "
                "watermark_from, mapping_version) VALUES (:run_id, :entity, :mode, 'running', "
                ":attempt, :started_at, :watermark_from, :mapping_version)"
            ),
            {
                "run_id": run_id,
                "entity": entity,
                "mode": mode,
                "attempt": (attempt or 0) + 1,
                "started_at": sql_value(started, postgres=postgres),
                "watermark_from": sql_value(watermark_from, postgres=postgres),
                "mapping_version": mapping_version,
            },
        )
    return started


def finish_run(
    connection: Connection,
    *,
    run_id: str,
    entity: str,
    started: datetime,
    figures: RunFigures,
    status: str,
    error: str | None = None,
    watermark_to: datetime | None = None,
) -> None:
    """Write the final figures and status of a run-history row."""
    postgres = is_postgres(connection.engine)
    finished = utc_now()
    duration = max((datetime.now(UTC) - started).total_seconds(), 0.001)
    values = figures.as_dict()
    connection.execute(
        sa.text(
            "UPDATE meta_sync_runs SET status = :status, finished_at = :finished_at, "
            "duration_seconds = :duration, records_per_second = :rate, error = :error, "
            "watermark_to = :watermark_to, "
            + ", ".join(f"{name} = :{name}" for name in values)
            + " WHERE run_id = :run_id AND entity = :entity"
        ),
        {
            **values,
            "status": status,
            "finished_at": sql_value(finished, postgres=postgres),
            "duration": round(duration, 3),
            "rate": round(figures.fetched / duration, 1),
            "error": error[:4000] if error else None,
            "watermark_to": sql_value(watermark_to, postgres=postgres),
            "run_id": run_id,
            "entity": entity,
        },
    )


def get_watermark(engine: Engine, entity: str) -> datetime | None:
    """Return the entity's watermark, or None if it never synced successfully."""
    with engine.connect() as connection:
        value = connection.execute(
            sa.text("SELECT watermark FROM meta_watermarks WHERE entity = :entity"),
            {"entity": entity},
        ).scalar()
    return as_datetime(value)


def set_watermark(
    connection: Connection, *, entity: str, watermark: datetime | None, run_id: str, full: bool
) -> None:
    """Advance the watermark in the caller's transaction (after its rows are committed)."""
    postgres = is_postgres(connection.engine)
    now = sql_value(utc_now(), postgres=postgres)
    values = {
        "entity": entity,
        "watermark": sql_value(watermark, postgres=postgres),
        "run_id": run_id,
        "now": now,
        "full": now if full else None,
    }
    connection.execute(
        sa.text(
            "INSERT INTO meta_watermarks (entity, watermark, last_full_sync_at, last_success_at, "
            "last_run_id, updated_at) VALUES (:entity, :watermark, :full, :now, :run_id, :now) "
            "ON CONFLICT (entity) DO UPDATE SET watermark = excluded.watermark, "
            "last_full_sync_at = COALESCE(excluded.last_full_sync_at, "
            "meta_watermarks.last_full_sync_at), last_success_at = excluded.last_success_at, "
            "last_run_id = excluded.last_run_id, updated_at = excluded.updated_at"
        ),
        values,
    )


@dataclass(frozen=True)
class LastRead:
    """When an entity's latest successful full or incremental read began, and its bound."""

    started_at: datetime
    lower_bound: datetime | None  # None: a full read


def last_read(engine: Engine, entity: str) -> LastRead | None:
    """Return the entity's latest successful full or incremental read, if any."""
    with engine.connect() as connection:
        row = connection.execute(
            sa.text(
                "SELECT started_at, watermark_from FROM meta_sync_runs WHERE entity = :entity "
                "AND status = 'success' AND mode IN ('full', 'incremental') "
                "ORDER BY started_at DESC LIMIT 1"
            ),
            {"entity": entity},
        ).first()
    started = as_datetime(row[0]) if row else None
    if row is None or started is None:
        return None
    return LastRead(started, as_datetime(row[1]))


def last_reconciled(engine: Engine, entity: str) -> datetime | None:
    """Return when the entity was last reconciled successfully, if ever."""
    with engine.connect() as connection:
        value = connection.execute(
            sa.text(
                "SELECT MAX(finished_at) FROM meta_sync_runs WHERE entity = :entity "
                "AND mode = 'reconcile' AND status = 'success'"
            ),
            {"entity": entity},
        ).scalar()
    return as_datetime(value)


@dataclass(frozen=True)
class MappingVersion:
    """What ``meta_mapping_versions`` keeps of the mapping file rows are stamped with."""

    version: str
    label: str | None
    source_path: str
    content: str  # the validated mapping as JSON with sorted keys


def record_mapping_version(engine: Engine, mapping: MappingVersion) -> None:
    """Remember the mapping version (and its content) that rows are being stamped with."""
    postgres = is_postgres(engine)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO meta_mapping_versions (version, label, source_path, content, "
                f"first_used_at) VALUES (:version, :label, :path, "
                f"{'CAST(:content AS JSONB)' if postgres else ':content'}, :now) "
                "ON CONFLICT (version) DO NOTHING"
            ),
            {
                "version": mapping.version,
                "label": mapping.label,
                "path": mapping.source_path,
                "content": mapping.content,
                "now": sql_value(utc_now(), postgres=postgres),
            },
        )


def staged_ids(engine: Engine, table: str) -> set[int]:
    """Ids of a staging table's rows that are not soft-deleted."""
    with engine.connect() as connection:
        result = connection.execute(sa.text(f"SELECT id FROM {table} WHERE deleted_at IS NULL"))
        return {int(row[0]) for row in result}


def as_datetime(value: Any) -> datetime | None:
    """Read a timestamp column (datetime on PostgreSQL, ISO text on SQLite) as aware UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
