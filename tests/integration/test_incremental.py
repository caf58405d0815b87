"""Incremental sync, concurrent change, deletes, re-mapping and freshness, against the simulator."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from connectwise import jobs
from connectwise.entities import REGISTRY
from connectwise.errors import DeleteSafetyError
from connectwise.staging.database import create_staging_engine

from tests.support import assert_matches_truth, staged_rows

ROOT = Path(__file__).resolve().parents[2]
SEED_FILTER = {"customer", "prospect", "suspect"}
MUTATED = ("company/contacts", "company/companies", "procurement/catalog", "sales/opportunities")


def sync_all(engine, run_id: str, mode: str, mapping_path: str | None = None) -> dict:
    figures = {}
    for entity in REGISTRY:
        if entity.optional:  # opt-in entities are off in the shipped mapping
            continue
        job = jobs.open_job(engine=engine, mapping_path=mapping_path)
        figures[entity.name] = jobs.run_sync(job, entity.name, mode=mode, run_id=run_id)
    return figures


def reconcile_all(engine, run_id: str) -> None:
    job = jobs.open_job(engine=engine)
    for entity in REGISTRY:
        if entity.optional:  # opt-in entities are off in the shipped mapping
            continue
        jobs.run_reconcile(job, entity.name, run_id=run_id)


def test_incremental_run_reflects_creates_updates_and_deletes(
    simulator, cw_connection, staging_url
):
    cw_connection(simulator)
    engine = create_staging_engine(staging_url)
    sync_all(engine, "initial", "full")
    plans = {path: simulator.mutate(path, create=4, update=6, delete=3) for path in MUTATED}
    figures = sync_all(engine, "inc-1", "incremental")
    reconcile_all(engine, "inc-1")
    assert_matches_truth(engine, simulator, SEED_FILTER)
    assert figures["catalog_items"]["mode"] == "incremental"
    assert figures["catalog_items"]["inserted"] == 4
    assert figures["catalog_items"]["updated"] >= 6
    with engine.connect() as connection:
        gone = (
            connection.execute(
                sa.text("SELECT id FROM stg_catalog_items WHERE deleted_at IS NOT NULL")
            )
            .scalars()
            .all()
        )
        deleted_companies = (
            connection.execute(sa.text("SELECT id FROM stg_companies WHERE is_deleted"))
            .scalars()
            .all()
        )
    assert sorted(gone) == sorted(plans["procurement/catalog"]["deleted"])
    # Company deletes are soft in ConnectWise: the row stays, marked deleted, not dropped.
    assert set(plans["company/companies"]["deleted"]) <= set(deleted_companies)


def test_incremental_cost_follows_the_changes_not_the_table(simulator, cw_connection, sqlite_url):
    cw_connection(simulator, page_size=20)
    engine = create_staging_engine(sqlite_url)
    sync_all(engine, "initial", "full")
    simulator.mutate("procurement/catalog", update=5)
    simulator.reset_stats()
    figures = sync_all(engine, "inc", "incremental")
    catalog_reads = simulator.stats()["by_endpoint"].get("GET procurement/catalog", 0)
    assert figures["catalog_items"]["fetched"] <= 20  # the 5 changes (+ same-second edges)
    assert catalog_reads == 1  # one page, not the 10 pages a scan of 200 items takes
    assert figures["catalog_items"]["http_requests"] <= 3  # count + one page


def test_changes_made_while_syncing_are_all_caught_by_the_next_run(
    simulator, cw_connection, staging_url
):
    cw_connection(simulator, page_size=10)
    simulator.set_faults(latency_ms=15)
    engine = create_staging_engine(staging_url)
    plan = simulator.mutate("company/contacts", create=15, update=25, delete=10, spread_seconds=3)
    sync_all(engine, "initial", "full")  # runs while the mutations land
    simulator.wait_mutations_idle()
    simulator.set_faults(latency_ms=0)
    sync_all(engine, "inc", "incremental")
    reconcile_all(engine, "inc")
    assert_matches_truth(engine, simulator, SEED_FILTER)
    with engine.connect() as connection:
        duplicates = connection.execute(
            sa.text("SELECT COUNT(*) - COUNT(DISTINCT id) FROM stg_contacts")
        ).scalar()
    assert duplicates == 0
    assert plan["deleted"]


def test_mass_delete_is_refused_with_the_reason(simulator, cw_connection, sqlite_url):
    cw_connection(simulator)
    engine = create_staging_engine(sqlite_url)
    sync_all(engine, "initial", "full")
    staged_before = staged_rows(engine, REGISTRY["manufacturers"])
    simulator.mutate("procurement/manufacturers", delete=int(len(staged_before) * 0.6) + 1)
    job = jobs.open_job(engine=engine)
    with pytest.raises(DeleteSafetyError, match=r"more than max_delete_ratio 50%\. Nothing"):
        jobs.run_reconcile(job, "manufacturers", run_id="r")
    assert staged_rows(engine, REGISTRY["manufacturers"]).keys() == staged_before.keys()
    with engine.connect() as connection:
        status = connection.execute(
            sa.text("SELECT status FROM meta_sync_runs WHERE mode = 'reconcile'")
        ).scalar()
    assert status == "failed"


def test_a_record_that_comes_back_is_undeleted(simulator, cw_connection, sqlite_url):
    cw_connection(simulator)
    engine = create_staging_engine(sqlite_url)
    sync_all(engine, "initial", "full")
    record_id = next(iter(staged_rows(engine, REGISTRY["manufacturers"])))
    with engine.begin() as connection:  # as if an earlier reconciliation had missed it
        connection.execute(
            sa.text(
                "UPDATE stg_manufacturers SET deleted_at = '2026-01-01T00:00:00Z' WHERE id = :id"
            ),
            {"id": record_id},
        )
    result = jobs.run_reconcile(jobs.open_job(engine=engine), "manufacturers", run_id="r")
    assert result["returned"] == 1
    assert record_id in staged_rows(engine, REGISTRY["manufacturers"])


def test_remap_reapplies_the_mapping_without_api_calls(
    simulator, cw_connection, sqlite_url, tmp_path
):
    cw_connection(simulator)
    engine = create_staging_engine(sqlite_url)
    sync_all(engine, "initial", "full")
    shipped = (ROOT / "include/mappings/connectwise.yaml").read_text()
    changed = tmp_path / "mapping.yaml"
    changed.write_text(shipped.replace("  Inactive: Inactive\n", "  Inactive: Retired\n"))
    inactive = {
        item["id"] for item in simulator.truth("procurement/catalog") if item["inactiveFlag"]
    }
    assert inactive

    # A new mapping applies to future changes only: unchanged rows keep their version.
    sync_all(engine, "full-again", "full", mapping_path=str(changed))
    rows = staged_rows(engine, REGISTRY["catalog_items"])
    assert {rows[i]["product_status"] for i in inactive} == {"Inactive"}

    simulator.reset_stats()
    job = jobs.open_job(engine=engine, mapping_path=str(changed))
    figures = jobs.run_sync(job, "catalog_items", mode="remap", run_id="remap")
    assert simulator.stats()["requests_total"] == 0
    rows = staged_rows(engine, REGISTRY["catalog_items"])
    assert {rows[i]["product_status"] for i in inactive} == {"Retired"}
    assert {row["mapping_version"] for row in rows.values()} == {job.mapping.version}
    assert figures["updated"] == len(rows)


def test_freshness_view_shows_each_entity(simulator, cw_connection, staging_url):
    cw_connection(simulator)
    engine = create_staging_engine(staging_url)
    sync_all(engine, "initial", "full")
    with engine.connect() as connection:
        view = {
            row.entity: row for row in connection.execute(sa.text("SELECT * FROM v_sync_freshness"))
        }
    assert set(view) == set(REGISTRY.names())
    contacts = view["contacts"]
    assert contacts.row_count == len(staged_rows(engine, REGISTRY["contacts"]))
    assert contacts.last_success_at is not None and contacts.watermark is not None
    assert contacts.last_run_status == "success" and contacts.last_error is None
