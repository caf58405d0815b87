"""Run history, watermarks and mapping versions, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from connectwise.mapping.load import Mapping
from connectwise.staging import history, lookups
from connectwise.staging.database import create_staging_engine
from connectwise.staging.history import RunFigures, as_datetime
from connectwise.staging.migrations import migrate
from sqlalchemy.engine import Engine

WATERMARK = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def run_row(engine: Engine, run_id: str = "run-1", entity: str = "contacts") -> dict[str, Any]:
    with engine.connect() as connection:
        return dict(
            connection.execute(
                sa.text("SELECT * FROM meta_sync_runs WHERE run_id = :run_id AND entity = :entity"),
                {"run_id": run_id, "entity": entity},
            )
            .mappings()
            .one()
        )


def count_rows(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def start(engine: Engine, run_id: str = "run-1", **overrides: Any) -> datetime:
    arguments: dict[str, Any] = {
        "run_id": run_id,
        "entity": "contacts",
        "mode": "incremental",
        "mapping_version": "seed@abc",
        "watermark_from": None,
        **overrides,
    }
    return history.start_run(engine, **arguments)


def set_watermark(
    engine: Engine, watermark: datetime | None, *, full: bool = False, run_id: str = "run-1"
) -> None:
    with engine.begin() as connection:
        history.set_watermark(
            connection, entity="contacts", watermark=watermark, run_id=run_id, full=full
        )


# --- run history -----------------------------------------------------------------------------


def test_start_run_writes_a_running_row(engine: Engine) -> None:
    started = start(engine, watermark_from=WATERMARK)

    row = run_row(engine)

    assert (row["status"], row["mode"], row["attempt"], row["mapping_version"]) == (
        "running",
        "incremental",
        1,
        "seed@abc",
    )
    assert as_datetime(row["started_at"]) == started
    assert as_datetime(row["watermark_from"]) == WATERMARK
    assert row["finished_at"] is None


def test_start_run_returns_an_aware_utc_time(engine: Engine) -> None:
    started = start(engine)
    assert started.utcoffset() == timedelta(0)
    assert as_datetime(run_row(engine)["started_at"]) == started  # stored without loss


def test_rerun_of_the_same_run_bumps_the_attempt_and_keeps_one_row(engine: Engine) -> None:
    start(engine)
    start(engine)
    start(engine)

    assert run_row(engine)["attempt"] == 3
    assert count_rows(engine, "meta_sync_runs") == 1


def test_rerun_resets_the_figures_of_the_failed_attempt(engine: Engine) -> None:
    started = start(engine)
    with engine.begin() as connection:
        history.finish_run(
            connection,
            run_id="run-1",
            entity="contacts",
            started=started,
            figures=RunFigures(fetched=10, inserted=4),
            status="failed",
            error="boom",
        )

    start(engine)

    row = run_row(engine)
    assert (row["status"], row["fetched"], row["inserted"], row["error"]) == ("running", 0, 0, None)


def test_other_runs_and_entities_start_at_attempt_one(engine: Engine) -> None:
    start(engine)
    start(engine, run_id="run-2")
    start(engine, entity="companies")

    assert run_row(engine, "run-2")["attempt"] == 1
    assert run_row(engine, "run-1", "companies")["attempt"] == 1


def test_finish_run_writes_the_figures_and_status(engine: Engine) -> None:
    started = start(engine)
    figures = RunFigures(
        fetched=120,
        filtered=5,
        inserted=100,
        updated=10,
        unchanged=3,
        quarantined=2,
        deleted=1,
        pages=3,
        http_requests=5,
        retries=2,
        throttled=1,
        extra={"ignored": True},
    )

    with engine.begin() as connection:
        history.finish_run(
            connection,
            run_id="run-1",
            entity="contacts",
            started=started,
            figures=figures,
            status="success",
            watermark_to=WATERMARK,
        )

    row = run_row(engine)
    assert {name: row[name] for name in figures.as_dict()} == figures.as_dict()
    assert row["status"] == "success"
    assert row["error"] is None
    assert as_datetime(row["watermark_to"]) == WATERMARK
    assert as_datetime(row["finished_at"]) >= started  # type: ignore[operator]
    assert row["duration_seconds"] > 0
    assert row["records_per_second"] > 0


def test_finish_run_keeps_the_error_of_a_failed_run_shortened(engine: Engine) -> None:
    started = start(engine)

    with engine.begin() as connection:
        history.finish_run(
            connection,
            run_id="run-1",
            entity="contacts",
            started=started,
            figures=RunFigures(),
            status="failed",
            error="x" * 10_000,
        )

    row = run_row(engine)
    assert row["status"] == "failed"
    assert len(row["error"]) == 4000


def test_run_figures_as_dict_leaves_out_extra() -> None:
    assert "extra" not in RunFigures(extra={"a": 1}).as_dict()


# --- watermarks ------------------------------------------------------------------------------


def test_watermark_of_an_entity_that_never_synced_is_none(engine: Engine) -> None:
    assert history.get_watermark(engine, "contacts") is None


def test_watermark_round_trips_an_aware_utc_datetime(engine: Engine) -> None:
    set_watermark(engine, WATERMARK)

    read = history.get_watermark(engine, "contacts")

    assert read == WATERMARK
    assert read is not None and read.utcoffset() == timedelta(0)


def test_set_watermark_moves_an_existing_watermark(engine: Engine) -> None:
    set_watermark(engine, WATERMARK)
    later = WATERMARK + timedelta(hours=1)

    set_watermark(engine, later, run_id="run-2")

    assert history.get_watermark(engine, "contacts") == later
    assert count_rows(engine, "meta_watermarks") == 1


def test_incremental_watermark_keeps_the_last_full_sync_time(engine: Engine) -> None:
    set_watermark(engine, WATERMARK, full=True)
    set_watermark(engine, WATERMARK + timedelta(hours=1), run_id="run-2", full=False)

    with engine.connect() as connection:
        row = connection.execute(
            sa.text("SELECT last_full_sync_at, last_run_id FROM meta_watermarks")
        ).one()
    assert row[0] is not None
    assert row[1] == "run-2"


@pytest.mark.parametrize(
    "backend",
    [
        "sqlite",
        "postgres",
    ],
)
def test_watermark_given_in_another_timezone_keeps_its_instant(
    backend: str, request: pytest.FixtureRequest
) -> None:
    database = create_staging_engine(request.getfixturevalue(f"{backend}_url"))
    try:
        migrate(database)
        plus_two = WATERMARK.astimezone(timezone(timedelta(hours=2)))
        set_watermark(database, plus_two)

        assert history.get_watermark(database, "contacts") == WATERMARK
    finally:
        database.dispose()


# --- mapping versions and staged ids ---------------------------------------------------------


def test_record_mapping_version_stores_each_version_once(
    engine: Engine, shipped_mapping: Mapping
) -> None:
    history.record_mapping_version(engine, shipped_mapping.version_record())
    history.record_mapping_version(engine, shipped_mapping.version_record())

    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT version, label FROM meta_mapping_versions")).all()
    assert [tuple(row) for row in rows] == [(shipped_mapping.version, "seed-recommended")]


def test_staged_ids_leave_out_soft_deleted_rows(engine: Engine) -> None:
    with engine.begin() as connection:
        for record_id, deleted_at in ((1, None), (2, "2024-01-01T00:00:00Z"), (3, None)):
            connection.execute(
                sa.text(
                    "INSERT INTO stg_categories (id, name, raw, record_hash, mapping_version, "
                    "first_seen_at, loaded_at, deleted_at) VALUES (:id, 'c', '{}', 'h', 'v', "
                    ":now, :now, :deleted_at)"
                ),
                {"id": record_id, "now": "2024-01-01T00:00:00Z", "deleted_at": deleted_at},
            )

    assert history.staged_ids(engine, "stg_categories") == {1, 3}
    assert lookups.live_ids_among(engine, "stg_categories", [1, 2, 4]) == {1}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("2024-05-06T07:08:09Z", WATERMARK),
        (datetime(2024, 5, 6, 7, 8, 9), WATERMARK),
        (WATERMARK, WATERMARK),
    ],
)
def test_as_datetime_reads_both_dialects_as_aware_utc(
    value: Any, expected: datetime | None
) -> None:
    assert as_datetime(value) == expected
