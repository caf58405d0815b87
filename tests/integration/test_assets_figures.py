"""The figures asset events are built from: sync, reconciliation and callback-drain results."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from connectwise import jobs
from connectwise.callbacks import install, process
from connectwise.entities import REGISTRY
from connectwise.staging.database import create_staging_engine
from connectwise.staging.history import get_watermark

from tests.callback_support import delivery, post_signed, running_receiver
from tests.support import staged_rows


def sync_all(job: jobs.Job) -> None:
    for entity in REGISTRY.in_dependency_order():
        if not entity.optional:
            jobs.run_sync(job, entity.name, mode="full", run_id="initial")


def test_sync_figures_carry_the_watermark_the_run_left(simulator, cw_connection, staging_url):
    cw_connection(simulator)
    engine = create_staging_engine(staging_url)
    job = jobs.open_job(engine=engine)
    result = jobs.run_sync(job, "company_types", mode="full", run_id="r1")
    assert datetime.fromisoformat(result["watermark"]) == get_watermark(engine, "company_types")
    remap = jobs.run_sync(job, "company_types", mode="remap", run_id="r2")
    assert remap["watermark"] == result["watermark"]  # re-mapping reads no API: it stays


def test_reconciliation_counts_the_records_it_re_reads(simulator, cw_connection, sqlite_url):
    cw_connection(simulator)
    engine = create_staging_engine(sqlite_url)
    job = jobs.open_job(engine=engine)
    jobs.run_sync(job, "manufacturers", mode="full", run_id="initial")
    record_id = next(iter(staged_rows(engine, REGISTRY["manufacturers"])))
    with engine.begin() as connection:  # as if an earlier reconciliation had missed it
        connection.execute(
            sa.text(
                "UPDATE stg_manufacturers SET deleted_at = '2026-01-01T00:00:00Z' WHERE id = :id"
            ),
            {"id": record_id},
        )
    result = jobs.run_reconcile(job, "manufacturers", run_id="r")
    assert (result["returned"], result["soft_deleted"]) == (1, 0)
    assert (result["inserted"], result["updated"], result["quarantined"]) == (0, 1, 0)


def test_drain_figures_add_up_every_batch_of_an_entity(
    simulator, cw_connection, staging_connection, sqlite_url
):
    engine = create_staging_engine(sqlite_url)
    with running_receiver() as receiver:
        cw_connection(simulator, callback_url=receiver.base_url)
        staging_connection(sqlite_url)
        job = jobs.open_job(engine=engine)
        sync_all(job)
        changed = simulator.mutate("company/contacts", update=12, seed=3)["updated"]
        url = f"{receiver.base_url}/callbacks/{install.callback_token(job.hook.site)}?recordId="
        for record_id in changed:  # without the record: each is read by id
            body = delivery(simulator, "contact", "updated", None, record_id)
            assert post_signed(url, simulator, body).json() == {"status": "accepted"}

    result = process.drain(job, "drain", batch_size=4)

    assert result["batches"] == 3
    with engine.connect() as connection:
        written = connection.execute(
            sa.text("SELECT COUNT(*) FROM stg_contacts WHERE run_id LIKE 'drain%'")
        ).scalar()
    assert written > 4  # more than one batch changed rows
    assert result["entities"]["contacts"]["updated"] == written
