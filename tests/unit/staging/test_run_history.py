"""One bracket writes every run-history row: syncs, reconciliations and pushes alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from connectwise.client.budget import RequestStats
from connectwise.staging import history
from connectwise.staging.push_runs import PushRun
from sqlalchemy.engine import Engine


def sync_row(engine: Engine, run_id: str) -> dict:
    with engine.connect() as connection:
        return dict(
            connection.execute(
                sa.text("SELECT * FROM meta_sync_runs WHERE run_id = :run_id"), {"run_id": run_id}
            )
            .mappings()
            .one()
        )


def test_a_successful_run_counts_its_requests_and_moves_the_watermark(engine: Engine) -> None:
    stats = RequestStats()
    stats.count_request()  # sent before the run: not the run's
    moment = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    run = history.SyncRun(engine, "r1", "contacts", "full", "v1")

    with history.run_history(run, stats):
        assert sync_row(engine, "r1")["status"] == "running"
        for _ in range(3):
            stats.count_request()
        stats.count_retry(0.5, throttled=True)
        run.figures.fetched = 7
        run.watermark = moment

    row = sync_row(engine, "r1")
    assert row["status"] == "success"
    assert (row["http_requests"], row["retries"], row["throttled"]) == (3, 1, 1)
    assert row["fetched"] == 7
    assert history.get_watermark(engine, "contacts") == moment


def test_a_failing_run_is_finished_as_failed_and_the_watermark_stays(engine: Engine) -> None:
    stats = RequestStats()
    run = history.SyncRun(engine, "r2", "contacts", "incremental", "v1")

    with (
        pytest.raises(RuntimeError, match="ConnectWise went away"),
        history.run_history(run, stats),
    ):
        stats.count_request()
        run.watermark = datetime(2026, 11, 1, tzinfo=UTC)
        raise RuntimeError("ConnectWise went away")

    row = sync_row(engine, "r2")
    assert row["status"] == "failed"
    assert row["error"] == "ConnectWise went away"
    assert row["http_requests"] == 1
    assert row["watermark_to"] is None
    assert history.get_watermark(engine, "contacts") is None


def test_a_push_run_counts_throttled_answers_too(engine: Engine) -> None:
    stats = RequestStats()

    with history.run_history(PushRun(engine, "p1", "contacts"), stats) as run:
        stats.count_request()
        stats.count_retry(1.0, throttled=True)
        run.figures.sent = 1

    with engine.connect() as connection:
        row = connection.execute(
            sa.text("SELECT status, sent, http_requests, retries, throttled FROM meta_push_runs")
        ).one()
    assert tuple(row) == ("success", 1, 1, 1, 1)
