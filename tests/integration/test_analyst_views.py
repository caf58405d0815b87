"""The analyst views return the right rows (on PostgreSQL and SQLite)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from connectwise import jobs
from connectwise.entities import REGISTRY
from connectwise.staging.database import create_staging_engine

from tests.support import mapping_with_additions, staged_rows


@pytest.fixture
def synced(shared_simulator, cw_connection, staging_url, tmp_path):
    cw_connection(shared_simulator)
    engine = create_staging_engine(staging_url)
    mapping = mapping_with_additions(tmp_path)  # the optional entity, enabled
    for entity in REGISTRY:
        job = jobs.open_job(engine=engine, mapping_path=mapping)
        jobs.run_sync(job, entity.name, mode="full", run_id="v")
    return engine


def view(engine, name: str, key: str) -> dict:
    with engine.connect() as connection:
        return {
            row[key]: row for row in connection.execute(sa.text(f"SELECT * FROM {name}")).mappings()
        }


def test_contacts_view_joins_company_and_resolved_type(synced, shared_simulator):
    rows = view(synced, "v_contacts", "contact_id")
    contacts = staged_rows(synced, REGISTRY["contacts"])
    companies = {c["id"]: c for c in shared_simulator.truth("company/companies")}
    assert set(rows) == set(contacts)
    for contact_id, row in rows.items():
        company = companies.get(contacts[contact_id]["company_id"])
        assert row["company_name"] == (company["name"] if company else None)
        assert row["company_type"] in {"Customer", "Prospect", "Suspect"}  # the seed's filter


def test_active_catalog_view_has_only_active_items_with_names(synced, shared_simulator):
    rows = view(synced, "v_active_catalog", "catalog_item_id")
    truth = shared_simulator.truth("procurement/catalog")
    active = {item["id"]: item for item in truth if not item["inactiveFlag"]}
    assert set(rows) == set(active)
    for item_id, row in rows.items():
        item = active[item_id]
        assert row["category_name"] == (item.get("category") or {}).get("name")
        assert row["manufacturer_name"] == (item.get("manufacturer") or {}).get("name")
        assert row["product_status"] == "Active"


def test_open_pipeline_counts_open_opportunities_by_stage_and_status(synced, shared_simulator):
    with synced.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT stage, status, opportunities FROM v_open_pipeline")
        ).all()
    expected: dict[tuple, int] = {}
    for opportunity in shared_simulator.truth("sales/opportunities"):
        if opportunity["status"]["name"] == "Open":
            key = (opportunity["stage"]["name"], "Open")
            expected[key] = expected.get(key, 0) + 1
    assert {(row.stage, row.status): row.opportunities for row in rows} == expected


def test_agreements_view_names_the_company(synced, shared_simulator):
    rows = view(synced, "v_agreements", "agreement_id")
    companies = {c["id"]: c["name"] for c in shared_simulator.truth("company/companies")}
    truth = shared_simulator.truth("finance/agreements")
    assert set(rows) == {a["id"] for a in truth}
    for agreement in truth:
        assert rows[agreement["id"]]["company_name"] == companies[agreement["company"]["id"]]


def test_agreements_with_additions_view_lists_every_addition(synced, shared_simulator):
    rows = view(synced, "v_agreements_with_additions", "addition_id")
    agreements = {a["id"]: a for a in shared_simulator.truth("finance/agreements")}
    additions = shared_simulator.truth("finance/agreements/additions")
    assert set(rows) == {addition["id"] for addition in additions}
    for addition in additions:
        row = rows[addition["id"]]
        assert row["agreement_name"] == agreements[addition["agreementId"]]["name"]
        assert row["product_id"] == addition["product"]["id"]
        assert row["extended_price"] == pytest.approx(addition["quantity"] * addition["unitPrice"])


def test_additions_match_the_truth_when_enabled(synced, shared_simulator):
    from tests.support import assert_matches_truth

    assert_matches_truth(
        synced,
        shared_simulator,
        {"customer", "prospect", "suspect"},
        optional=("agreement_additions",),
    )


def test_optional_entity_is_skipped_with_the_reason_when_not_enabled(
    shared_simulator, cw_connection, sqlite_url
):
    from connectwise.errors import EntityDisabledError

    cw_connection(shared_simulator)
    job = jobs.open_job(engine=create_staging_engine(sqlite_url))
    with pytest.raises(EntityDisabledError, match=r"no entities\.agreement_additions section"):
        jobs.run_sync(job, "agreement_additions", mode="full", run_id="x")
