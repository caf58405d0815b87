"""Run history of the push: one ``meta_push_runs`` row per run and flow."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectwise.staging.database import is_postgres, utc_now
from connectwise.staging.outbox import Outcome
from connectwise.staging.writer import sql_value


@dataclass
class PushFigures:
    """What one flow's run did."""

    rows_claimed: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    in_flight: int = 0
    created: int = 0
    updated: int = 0
    http_requests: int = 0
    retries: int = 0
    throttled: int = 0
    reports: list[str] = field(default_factory=list)

    def add(self, outcomes: list[Outcome]) -> None:
        """Count a batch of outcomes."""
        for outcome in outcomes:
            self.rows_claimed += 1
            if outcome.status == "sending":
                self.in_flight += 1
            else:
                setattr(self, outcome.status, getattr(self, outcome.status) + 1)
            self.created += outcome.created
            self.updated += outcome.updated
            if outcome.report:
                self.reports.append(outcome.report)

    def as_dict(self) -> dict[str, int]:
        """Counters only (safe to return from a task)."""
        figures = asdict(self)
        figures.pop("reports")
        return figures


def start_push_run(engine: Engine, run_id: str, flow: str) -> datetime:
    """Insert (or, on a task retry, reset) the run row; return the start time."""
    started = utc_now()
    with engine.begin() as connection:
        connection.execute(
            sa.text("DELETE FROM meta_push_runs WHERE run_id = :run_id AND flow = :flow"),
            {"run_id": run_id, "flow": flow},
        )
        connection.execute(
            sa.text(
                "INSERT INTO meta_push_runs (run_id, flow, status, started_at) "
                "VALUES (:run_id, :flow, 'running', :started)"
            ),
            {
                "run_id": run_id,
                "flow": flow,
                "started": sql_value(started, postgres=is_postgres(engine)),
            },
        )
    return started


def finish_push_run(
    engine: Engine,
    run_id: str,
    flow: str,
    started: datetime,
    figures: PushFigures,
    *,
    status: str,
    error: str | None = None,
) -> None:
    """Write the run's figures, status and report."""
    finished = utc_now()
    values = figures.as_dict()
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE meta_push_runs SET status = :status, finished_at = :finished, "
                "duration_seconds = :duration, report = :report, error = :error, "
                + ", ".join(f"{name} = :{name}" for name in values)
                + " WHERE run_id = :run_id AND flow = :flow"
            ),
            {
                **values,
                "status": status,
                "finished": sql_value(finished, postgres=is_postgres(engine)),
                "duration": round((finished - started).total_seconds(), 3),
                "report": "\n".join(figures.reports)[:4000] or None,
                "error": error[:4000] if error else None,
                "run_id": run_id,
                "flow": flow,
            },
        )


@dataclass
class PushRun:
    """One ``meta_push_runs`` row from start to finish (``history.run_history`` brackets it)."""

    engine: Engine
    run_id: str
    flow: str
    figures: PushFigures = field(default_factory=PushFigures)
    started: datetime = field(default_factory=utc_now)

    def start(self) -> None:
        """Write the row as running."""
        self.started = start_push_run(self.engine, self.run_id, self.flow)

    def finish(self, status: str, error: str | None) -> None:
        """Write the figures, status and report."""
        finish_push_run(
            self.engine,
            self.run_id,
            self.flow,
            self.started,
            self.figures,
            status=status,
            error=error,
        )
