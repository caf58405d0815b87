"""The sync survives a misbehaving API and being killed, and converges to the truth."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import sqlalchemy as sa
from connectwise import jobs
from connectwise.entities import REGISTRY
from connectwise.staging.database import create_staging_engine

from tests.support import assert_matches_truth, staged_rows

ROOT = Path(__file__).resolve().parents[2]
SEED_FILTER = {"customer", "prospect", "suspect"}


def sync_all(engine: sa.Engine, run_id: str, *, before_sync=None) -> None:
    job = jobs.open_job(engine=engine)
    jobs.run_preflight(job)
    if before_sync:
        before_sync()
    for entity in REGISTRY:
        if entity.optional:  # opt-in entities are off in the shipped mapping
            continue
        jobs.run_sync(jobs.open_job(engine=engine), entity.name, mode="full", run_id=run_id)


def test_sync_completes_with_exact_truth_despite_5xx_and_truncated_bodies(
    simulator, cw_connection, staging_url
):
    cw_connection(simulator, page_size=25, max_retries=10)
    engine = create_staging_engine(staging_url)
    sync_all(
        engine,
        "faulty",
        before_sync=lambda: simulator.set_faults(error_rate=0.1, truncate_rate=0.05, seed=5),
    )
    simulator.set_faults(error_rate=0.0, truncate_rate=0.0)
    assert_matches_truth(engine, simulator, SEED_FILTER)
    faults = simulator.stats()["faults"]
    assert faults["5xx"] > 0 and faults["truncated"] > 0
    with engine.connect() as connection:
        retries = connection.execute(
            sa.text("SELECT SUM(retries) FROM meta_sync_runs WHERE run_id = 'faulty'")
        ).scalar()
    assert retries == faults["5xx"] + faults["truncated"]  # every fault retried and recorded


def test_sync_honours_retry_after_when_throttled_among_5xx_and_truncation(
    simulator, cw_connection, sqlite_url
):
    # The 60 requests/minute, scaled to a 2-second window so the test stays short;
    # bench/fault_run.py runs the real one-minute window.
    cw_connection(simulator, page_size=50, max_retries=30, backoff_cap=5)
    engine = create_staging_engine(sqlite_url)
    sync_all(
        engine,
        "throttled",
        before_sync=lambda: simulator.set_faults(
            throttle_per_minute=12,
            throttle_window_seconds=2,
            retry_after_seconds=1,
            error_rate=0.1,
            truncate_rate=0.05,
            seed=9,
        ),
    )
    simulator.set_faults(throttle_per_minute=None, error_rate=0.0, truncate_rate=0.0)
    assert_matches_truth(engine, simulator, SEED_FILTER)
    assert simulator.stats()["throttled"] > 0
    with engine.connect() as connection:
        throttled = connection.execute(
            sa.text("SELECT SUM(throttled) FROM meta_sync_runs WHERE run_id = 'throttled'")
        ).scalar()
    assert throttled == simulator.stats()["throttled"]


# The sync kills itself in the middle of the contacts: at the start of a load once 20 contacts
# are committed, so the run is neither done nor empty. (Polling the table from the test and
# killing from outside raced the sync, which could finish the contacts first on a busy machine.)
KILLABLE_SYNC = textwrap.dedent(
    """
    import os, signal, sys
    sys.path[:0] = [{root!r}, {plugins!r}]
    import sqlalchemy as sa
    from connectwise import jobs
    from connectwise.entities import REGISTRY
    from connectwise.staging.database import create_staging_engine
    from connectwise import entity_sync
    check_and_load = entity_sync.check_and_load
    def load_or_die(engine, gate, writer, chunk, run_id):
        if writer.table == {table!r}:
            # Committed rows only (another connection): chunks of 10 rows, one transaction each.
            with engine.connect() as other:
                staged = other.execute(sa.text("SELECT COUNT(*) FROM " + writer.table)).scalar()
            if staged >= 20:
                os.kill(os.getpid(), signal.SIGKILL)
        return check_and_load(engine, gate, writer, chunk, run_id)
    entity_sync.check_and_load = load_or_die
    engine = create_staging_engine({url!r})
    for entity in REGISTRY:
        if entity.optional:  # opt-in entities are off in the shipped mapping
            continue
        job = jobs.open_job(engine=engine, mapping_path={mapping!r})
        jobs.run_sync(job, entity.name, mode="full", run_id="killed")
    """
)


def test_sync_killed_mid_entity_converges_on_rerun(simulator, cw_connection, staging_url, tmp_path):
    cw_connection(simulator, page_size=10)
    mapping = tmp_path / "mapping.yaml"
    shipped = (ROOT / "include/mappings/connectwise.yaml").read_text()
    mapping.write_text(shipped.replace("load_chunk_rows: 5000", "load_chunk_rows: 10"))
    engine = create_staging_engine(staging_url)
    contacts = REGISTRY["contacts"]
    script = KILLABLE_SYNC.format(
        root=str(ROOT),
        plugins=str(ROOT / "plugins"),
        url=staging_url,
        mapping=str(mapping),
        table=contacts.staging_table,
    )
    process = subprocess.Popen([sys.executable, "-c", script], env=dict(os.environ))
    try:
        returncode = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert returncode == -signal.SIGKILL, f"the sync was not killed (exit {returncode})"
    partial = len(staged_rows(engine, contacts))
    assert partial >= 20
    with engine.connect() as connection:
        status = connection.execute(
            sa.text("SELECT status FROM meta_sync_runs WHERE entity = 'contacts'")
        ).scalar()
    assert status == "running"  # the killed attempt left its row behind, as a kill does
    sync_all(engine, "rerun")
    assert_matches_truth(engine, simulator, SEED_FILTER)
    with engine.connect() as connection:
        duplicates = connection.execute(
            sa.text("SELECT COUNT(*) - COUNT(DISTINCT id) FROM stg_contacts")
        ).scalar()
    assert duplicates == 0
