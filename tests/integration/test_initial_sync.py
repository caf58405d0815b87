"""The initial sync against the simulator, on SQLite and PostgreSQL, compared with the truth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from connectwise import jobs
from connectwise.entities import REGISTRY
from connectwise.errors import QualityGateError
from connectwise.staging.database import create_staging_engine

from tests.support import assert_matches_truth, quarantined, staged_rows

ROOT = Path(__file__).resolve().parents[2]
SEED_FILTER = {"customer", "prospect", "suspect"}


def initial_sync(engine: sa.Engine, run_id: str, mapping_path: str | None = None) -> dict:
    job = jobs.open_job(mapping_path=mapping_path, engine=engine)
    jobs.run_preflight(job)
    figures = {}
    for entity in REGISTRY:
        if entity.optional:  # opt-in entities are off in the shipped mapping
            continue
        job = jobs.open_job(mapping_path=mapping_path, engine=engine)
        figures[entity.name] = jobs.run_sync(job, entity.name, mode="full", run_id=run_id)
    return figures


def mapping_variant(tmp_path: Path, *replacements: tuple[str, str]) -> str:
    text = (ROOT / "include/mappings/connectwise.yaml").read_text()
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / f"mapping-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(text)
    return str(path)


def test_initial_sync_matches_truth_record_by_record(shared_simulator, cw_connection, staging_url):
    cw_connection(shared_simulator)
    engine = create_staging_engine(staging_url)
    figures = initial_sync(engine, "run-1")
    assert_matches_truth(engine, shared_simulator, SEED_FILTER)
    assert figures["contacts"]["filtered"] > 0  # the seed's filter really left contacts out
    assert all(item["fetched"] > 0 for item in figures.values())


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_initial_sync_at_medium_scale_matches_truth(cw_connection, database, request):
    from simulator.testing import running_simulator

    url = request.getfixturevalue(f"{database}_url")
    with running_simulator(scale="medium", seed=3) as sim:
        cw_connection(sim)
        engine = create_staging_engine(url)
        figures = initial_sync(engine, "medium-1")
        assert_matches_truth(engine, sim, SEED_FILTER)
    assert figures["contacts"]["fetched"] >= 4000
    assert figures["catalog_items"]["inserted"] >= 4000


def test_second_full_sync_changes_nothing(shared_simulator, cw_connection, sqlite_url):
    cw_connection(shared_simulator)
    engine = create_staging_engine(sqlite_url)
    initial_sync(engine, "run-1")
    before = {entity.name: staged_rows(engine, entity) for entity in REGISTRY}
    figures = initial_sync(engine, "run-2")
    after = {entity.name: staged_rows(engine, entity) for entity in REGISTRY}
    assert before == after
    for name, item in figures.items():
        assert (item["inserted"], item["updated"]) == (0, 0), name
        assert item["unchanged"] == item["fetched"] - item["filtered"], name


def test_run_history_records_figures_of_every_entity(shared_simulator, cw_connection, sqlite_url):
    cw_connection(shared_simulator)
    engine = create_staging_engine(sqlite_url)
    initial_sync(engine, "run-1")
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT entity, status, fetched, inserted, pages, http_requests, "
                "duration_seconds, watermark_to FROM meta_sync_runs WHERE run_id = 'run-1'"
            )
        ).all()
    assert {row.entity for row in rows} == {e.name for e in REGISTRY if not e.optional}
    for row in rows:
        assert row.status == "success"
        assert row.pages >= 1 and row.http_requests >= row.pages
        assert row.duration_seconds > 0 and row.watermark_to is not None


def test_invalid_records_are_quarantined_with_reasons_and_the_rest_load(
    simulator, cw_connection, sqlite_url, tmp_path
):
    cw_connection(simulator)
    from connectwise.client.hook import ConnectWiseHook

    hook = ConnectWiseHook()
    customer = next(
        c
        for c in simulator.truth("company/companies")
        if any(t["name"] == "Customer" for t in c.get("types") or [])
    )
    bad = hook.post(
        "company/contacts",
        {
            "firstName": "Broken",
            "lastName": "Email",
            "company": {"id": customer["id"]},
            "communicationItems": [
                {
                    "type": {"id": 1},
                    "value": "not-an-email",
                    "defaultFlag": True,
                    "communicationType": "Email",
                }
            ],
        },
    )
    # Leave "No Decision" out of the status map: those opportunities must be quarantined.
    mapping = mapping_variant(
        tmp_path,
        ("  No Decision: Lost\n", ""),
        ("max_quarantine_ratio: 0.05", "max_quarantine_ratio: 0.5"),
    )
    engine = create_staging_engine(sqlite_url)
    initial_sync(engine, "run-q", mapping_path=mapping)

    held_contacts = quarantined(engine, REGISTRY["contacts"])
    assert "email 'not-an-email' is not a valid e-mail address" in held_contacts[bad["id"]]
    assert bad["id"] not in staged_rows(engine, REGISTRY["contacts"])
    undecided = {
        o["id"]
        for o in simulator.truth("sales/opportunities")
        if o["status"]["name"] == "No Decision"
    }
    held = quarantined(engine, REGISTRY["opportunities"])
    assert undecided and set(held) == undecided
    assert all("opportunity_status_map" in reason for reason in held.values())
    assert_matches_truth(engine, simulator, SEED_FILTER)


def test_contact_filter_and_company_type_priority(simulator, cw_connection, sqlite_url, tmp_path):
    cw_connection(simulator)
    from connectwise.client.hook import ConnectWiseHook

    hook = ConnectWiseHook()
    types = {t["name"]: t["id"] for t in simulator.truth("company/companies/types")}
    both = new_company(hook, "BOTHTYPES", [types["Vendor"], types["Customer"]])
    vendor = new_company(hook, "VENDORONLY", [types["Vendor"]])
    kept = new_contact(hook, both["id"], "Kept")
    dropped = new_contact(hook, vendor["id"], "Dropped")

    engine = create_staging_engine(sqlite_url)
    initial_sync(engine, "run-f")
    contacts = staged_rows(engine, REGISTRY["contacts"])
    companies = staged_rows(engine, REGISTRY["companies"])
    assert kept["id"] in contacts and dropped["id"] not in contacts
    assert companies[both["id"]]["company_type"] == "Customer"  # listed before Vendor
    assert companies[vendor["id"]]["company_type"] == "Vendor"

    vendor_first = mapping_variant(
        tmp_path,
        (
            "company_type_priority: [Customer, Prospect, Suspect, Partner, Vendor,",
            "company_type_priority: [Vendor, Customer, Prospect, Suspect, Partner,",
        ),
    )
    engine_b = create_staging_engine(f"sqlite:///{tmp_path / 'b.db'}")
    initial_sync(engine_b, "run-g", mapping_path=vendor_first)
    assert staged_rows(engine_b, REGISTRY["companies"])[both["id"]]["company_type"] == "Vendor"


def test_all_contacts_filter_keeps_every_contact(simulator, cw_connection, sqlite_url, tmp_path):
    cw_connection(simulator)
    mapping = mapping_variant(
        tmp_path, ("company_types: Customer, Prospect, Suspect", "company_types: all")
    )
    engine = create_staging_engine(sqlite_url)
    figures = initial_sync(engine, "run-all", mapping_path=mapping)
    assert figures["contacts"]["filtered"] == 0
    assert_matches_truth(engine, simulator, None)


def test_quarantine_ratio_above_limit_fails_the_entity_and_keeps_the_watermark(
    shared_simulator, cw_connection, sqlite_url, tmp_path
):
    cw_connection(shared_simulator)
    mapping = mapping_variant(tmp_path, ("  No Decision: Lost\n", ""))
    engine = create_staging_engine(sqlite_url)
    job = jobs.open_job(mapping_path=mapping, engine=engine)
    for entity in REGISTRY.with_dependencies(["opportunities"])[:-1]:
        jobs.run_sync(job, entity.name, mode="full", run_id="r")
    with pytest.raises(QualityGateError, match=r"above max_quarantine_ratio 5\.0%"):
        jobs.run_sync(job, "opportunities", mode="full", run_id="r")
    with engine.connect() as connection:
        status, error = connection.execute(
            sa.text("SELECT status, error FROM meta_sync_runs WHERE entity = 'opportunities'")
        ).one()
        watermark = connection.execute(
            sa.text("SELECT COUNT(*) FROM meta_watermarks WHERE entity = 'opportunities'")
        ).scalar()
    assert status == "failed" and "meta_quarantine" in error
    assert watermark == 0
    assert len(staged_rows(engine, REGISTRY["opportunities"])) > 0  # good rows still loaded


def new_company(hook, identifier: str, type_ids: list[int]) -> dict:
    return hook.post(
        "company/companies",
        {
            "identifier": identifier,
            "name": identifier.title(),
            "addressLine1": "1 Main St",
            "status": {"id": 1},
            "types": [{"id": type_id} for type_id in type_ids],
            "site": {"name": "Main"},
        },
    )


def new_contact(hook, company_id: int, first_name: str) -> dict:
    return hook.post(
        "company/contacts",
        {"firstName": first_name, "lastName": "Test", "company": {"id": company_id}},
    )


def test_chunks_close_at_their_megabytes_as_well_as_their_rows(
    shared_simulator, cw_connection, staging_url, tmp_path
):
    """Wide records make a chunk of ``load_chunk_rows`` rows many times larger: bytes bound it.

    Each chunk loads in a transaction of its own, stamping ``loaded_at`` once for its rows.
    """
    cw_connection(shared_simulator, page_size=25)
    contacts = REGISTRY["contacts"]
    engine = create_staging_engine(staging_url)
    chunks = {}
    for megabytes in (16, 0.05):
        mapping = mapping_variant(
            tmp_path,
            ("load_chunk_rows: 5000", "load_chunk_rows: 100000"),
            ("load_chunk_megabytes: 16", f"load_chunk_megabytes: {megabytes}"),
        )
        job = jobs.open_job(mapping_path=mapping, engine=engine)
        figures = jobs.run_sync(job, "contacts", mode="full", run_id=f"cap-{megabytes}")
        staged = staged_rows(engine, contacts)
        assert figures["inserted"] == len(staged) > 0
        chunks[megabytes] = {}
        for row in staged.values():
            size = len(json.dumps(row["raw"], separators=(",", ":")))
            chunks[megabytes].setdefault(row["loaded_at"], []).append(size)
        with engine.begin() as connection:  # the next run inserts every row again
            connection.execute(sa.text(f"DELETE FROM {contacts.staging_table}"))
    assert len(chunks[16]) == 1
    # A chunk closes after the page (25 records) that took it to the cap.
    widest = max(max(sizes) for sizes in chunks[0.05].values())
    assert len(chunks[0.05]) > 1
    assert max(sum(sizes) for sizes in chunks[0.05].values()) < 0.05 * 1024 * 1024 + 25 * widest


def test_references_are_looked_up_in_staging_part_by_part(
    shared_simulator, cw_connection, staging_url, tmp_path
):
    """A reference to a company staging no longer holds quarantines the record; others load.

    The gate asks staging which of a part's company ids it holds (no id set of the whole table).
    """
    cw_connection(shared_simulator, page_size=25)
    engine = create_staging_engine(staging_url)
    mapping = mapping_variant(tmp_path, ("max_quarantine_ratio: 0.05", "max_quarantine_ratio: 1"))
    for name in ("company_statuses", "company_types", "companies", "contacts"):
        jobs.run_sync(
            jobs.open_job(mapping_path=mapping, engine=engine), name, mode="full", run_id="refs"
        )
    opportunities = shared_simulator.truth("sales/opportunities")
    gone = opportunities[0]["company"]["id"]
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE stg_companies SET deleted_at = loaded_at WHERE id = :id"), {"id": gone}
        )
    for name in ("opportunity_statuses", "sales_stages", "opportunities"):
        figures = jobs.run_sync(
            jobs.open_job(mapping_path=mapping, engine=engine), name, mode="full", run_id="refs"
        )

    expected = {r["id"] for r in opportunities if (r.get("company") or {}).get("id") == gone}
    reasons = quarantined(engine, REGISTRY["opportunities"])
    assert set(reasons) == expected
    assert all(
        f"company_id {gone} does not match any staged companies" in reasons[i] for i in expected
    )
    assert figures["inserted"] == len(staged_rows(engine, REGISTRY["opportunities"])) > 0
