"""Preflight warns about tenant values the mapping does not cover, with the records each affects.

Against the simulator: the tenant gets values of its own through the API (a new opportunity
status, items billed weekly), the preflight counts their records with ``/count``, records a
``coverage`` line in ``meta_preflight`` and logs it, and the sync still runs.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
from connectwise import jobs
from connectwise.entities import REGISTRY
from connectwise.preflight import MODULE_PROBES, TABLE_SETUP
from connectwise.staging.database import create_staging_engine

from tests.support import quarantined

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_TERMS = "  Annual: yearly\n"
# The simulator's billing cycles are Weekly, Monthly, Quarterly, Annually and Bi-Annually.
EVERY_TERM = "  Annual: yearly\n  Annually: yearly\n  Weekly: weekly\n  Bi-Annually: half-yearly\n"
PRIORITY = (
    "company_type_priority: [Customer, Prospect, Suspect, Partner, Vendor, Competition, Owner, "
    "Not-A-Fit, Unknown]"
)
# Codebase discovery and authentication, one read per module and per Table Setup entity.
CHECKLIST_REQUESTS = 2 + len(MODULE_PROBES) + len(TABLE_SETUP)
SETUP_PATHS = (
    "sales/stages",
    "procurement/types",
    "finance/billingCycles",
    "company/companies/types",
)


def mapping_file(tmp_path: Path, *replacements: tuple[str, str]) -> str:
    text = (ROOT / "include/mappings/connectwise.yaml").read_text()
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / f"mapping-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(text)
    return str(path)


class Tenant:
    """Writes to the simulated tenant through its API, as a ConnectWise admin would."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.session = requests.Session()
        self.session.auth = (f"{sim.company_id}+{sim.public_key}", sim.private_key)
        self.session.headers["clientId"] = sim.client_id or ""

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.session.request(method, f"{self.sim.api_url}/{path}", timeout=30, **kwargs)
        assert response.ok, response.text
        return response.json()

    def give(self, path: str, ids: list[int], field: str, reference_id: int) -> None:
        change = [{"op": "replace", "path": field, "value": {"id": reference_id}}]
        for record_id in ids:
            self.call("PATCH", f"{path}/{record_id}", json=change)

    def add_status_to_opportunities(self, name: str, how_many: int) -> list[int]:
        status = self.call("POST", "sales/opportunities/statuses", json={"name": name})
        ids = [row["id"] for row in self.sim.truth("sales/opportunities")[:how_many]]
        self.give("sales/opportunities", ids, "status", status["id"])
        return ids


def coverage_rows(engine: sa.Engine, run_id: str) -> dict[str, tuple[bool, bool, str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT name, ok, required, detail, fix FROM meta_preflight "
                "WHERE run_id = :run AND kind = 'coverage'"
            ),
            {"run": run_id},
        ).all()
    return {row.name: (bool(row.ok), bool(row.required), row.detail, row.fix) for row in rows}


def counts_requested(sim: Any) -> dict[str, int]:
    return {key: n for key, n in sim.stats()["by_endpoint"].items() if key.endswith("/count")}


def test_unmapped_status_warns_with_its_exact_count_and_the_sync_still_runs(
    simulator, cw_connection, sqlite_url, tmp_path, caplog
):
    cw_connection(simulator)
    chosen = Tenant(simulator).add_status_to_opportunities("Pending Review", 3)
    path = mapping_file(tmp_path, (SHIPPED_TERMS, EVERY_TERM))
    engine = create_staging_engine(sqlite_url)
    with caplog.at_level(logging.WARNING, logger="connectwise.jobs"):
        result = jobs.run_preflight(jobs.open_job(mapping_path=path, engine=engine), "p")
    expected = (
        "3 opportunities have status 'Pending Review', which opportunity_status_map does not "
        "map: they will be quarantined"
    )
    assert result["warnings"] == ["opportunity status 'Pending Review'"]
    ok, required, detail, fix = coverage_rows(engine, "p")["opportunity status 'Pending Review'"]
    assert (ok, required, detail) == (False, False, expected)
    assert fix.startswith("Add 'Pending Review' to opportunity_status_map as Open, Won or Lost")
    assert f"[WARN] coverage   opportunity status 'Pending Review' {expected}" in caplog.text
    assert counts_requested(simulator) == {"GET sales/opportunities/count": 1}
    for entity in REGISTRY:
        if not entity.optional:
            job = jobs.open_job(mapping_path=path, engine=engine)
            jobs.run_sync(job, entity.name, mode="full", run_id="sync")
    # What the warning announced: exactly those opportunities were quarantined.
    assert sorted(quarantined(engine, REGISTRY["opportunities"])) == sorted(chosen)


def test_the_preflight_dag_records_the_warning_and_does_not_fail(
    simulator, cw_connection, staging_url, tmp_path
):
    cw_connection(simulator)
    Tenant(simulator).add_status_to_opportunities("Pending Review", 2)
    engine = create_staging_engine(staging_url)
    job = jobs.open_job(mapping_path=mapping_file(tmp_path), engine=engine)
    # strict=False is connectwise_preflight's mode: any failed check fails it, a warning not.
    result = jobs.run_preflight(job, "dag-run", strict=False)
    assert result["warnings"] == ["opportunity status 'Pending Review'"]
    rows = coverage_rows(engine, "dag-run")
    assert list(rows) == ["opportunity status 'Pending Review'"]
    assert rows["opportunity status 'Pending Review'"][2].startswith("2 opportunities have")


def test_everything_covered_warns_nothing_and_reads_nothing_beyond_the_checklist(
    simulator, cw_connection, sqlite_url, tmp_path
):
    cw_connection(simulator)
    engine = create_staging_engine(sqlite_url)
    job = jobs.open_job(
        mapping_path=mapping_file(tmp_path, (SHIPPED_TERMS, EVERY_TERM)), engine=engine
    )
    simulator.reset_stats()
    result = jobs.run_preflight(job, "p")
    assert result["warnings"] == [] and coverage_rows(engine, "p") == {}
    stats = simulator.stats()
    # The mapping's names and coverage reuse the checklist's reads of the setup tables.
    assert stats["requests_total"] == CHECKLIST_REQUESTS, stats["by_endpoint"]
    assert counts_requested(simulator) == {}


def test_keep_name_settings_in_use_warn_about_each_value_with_the_tenants_count(
    simulator, cw_connection, sqlite_url, tmp_path
):
    cw_connection(simulator)
    tenant = Tenant(simulator)
    recurring = [
        row["id"] for row in simulator.truth("procurement/catalog") if row["recurringFlag"]
    ]
    tenant.give("procurement/catalog", recurring[:2], "recurringBillCycle", 1)  # Weekly
    path = mapping_file(
        tmp_path,
        ("sales_stage_map: {}", "sales_stage_map: {1.Prospect: Lead}"),
        ("product_type_map: {}", "product_type_map: {Hardware: Goods}"),
        (PRIORITY, "company_type_priority: [Customer, Prospect, Suspect]"),
    )
    engine = create_staging_engine(sqlite_url)
    jobs.run_preflight(jobs.open_job(mapping_path=path, engine=engine), "p")
    truth = {path: simulator.truth(path) for path in ("sales/opportunities", "procurement/catalog")}
    companies = simulator.truth("company/companies")
    expected = {
        **{
            f"sales stage {name!r}": n
            for name, n in Counter(o["stage"]["name"] for o in truth["sales/opportunities"]).items()
            if name != "1.Prospect"
        },
        **{
            f"product type {name!r}": n
            for name, n in Counter(i["type"]["name"] for i in truth["procurement/catalog"]).items()
            if name != "Hardware"
        },
        **{
            f"company type {name!r}": n
            for name, n in Counter(t["name"] for c in companies for t in c["types"]).items()
            if name not in {"Customer", "Prospect", "Suspect"}
        },
        "billing cycle 'Weekly'": 2,  # Annually and Bi-Annually are counted too: no item uses them
    }
    found = {
        name: int(detail.split(" ", 1)[0])
        for name, (_, _, detail, _) in coverage_rows(engine, "p").items()
    }
    assert found == expected
    # One count per value left out, used or not: 4 stages, 5 product types + 3 bill cycles
    # (the shipped map has Monthly and Quarterly), 6 company types.
    setup = {path: len(simulator.truth(path)) for path in SETUP_PATHS}
    assert counts_requested(simulator) == {
        "GET sales/opportunities/count": setup["sales/stages"] - 1,
        "GET procurement/catalog/count": setup["procurement/types"]
        - 1
        + setup["finance/billingCycles"]
        - 2,
        "GET company/companies/count": setup["company/companies/types"] - 3,
    }


def test_a_count_that_fails_leaves_a_warning_without_count_saying_why(
    simulator, cw_connection, sqlite_url, tmp_path
):
    cw_connection(simulator, max_retries=1)
    Tenant(simulator).add_status_to_opportunities("Pending Review", 2)
    engine = create_staging_engine(sqlite_url)
    path = mapping_file(tmp_path, (SHIPPED_TERMS, EVERY_TERM))
    # Throttle every API request after the checklist's: the one count is answered 429.
    simulator.set_faults(
        throttle_per_minute=CHECKLIST_REQUESTS - 1,  # codebase discovery is not an API call
        throttle_window_seconds=3600,
        retry_after_seconds=0,
    )
    result = jobs.run_preflight(jobs.open_job(mapping_path=path, engine=engine), "p")
    assert result["warnings"] == ["opportunity status 'Pending Review'"]
    _, required, detail, _ = coverage_rows(engine, "p")["opportunity status 'Pending Review'"]
    assert not required
    assert detail.startswith("Could not count the opportunities with status 'Pending Review' (")
    assert "still failing after 2 attempts (last: HTTP 429)" in detail
    assert detail.endswith("opportunity_status_map does not map it: they will be quarantined")


def test_an_unreadable_table_leaves_its_setting_unchecked_with_a_warning(
    simulator, cw_connection, sqlite_url, tmp_path
):
    cw_connection(simulator)
    simulator.set_auth(hidden_tables=["Billing Cycle"])
    engine = create_staging_engine(sqlite_url)
    result = jobs.run_preflight(jobs.open_job(engine=engine), "p")
    assert result["warnings"] == ["Billing Cycle", "billing cycles"]
    _, required, detail, _ = coverage_rows(engine, "p")["billing cycles"]
    assert not required and detail.startswith("Could not read the billing cycles (GET ")
    assert "returned 403" in detail and "security role does not allow this)" in detail
    assert detail.endswith(", so product_terms_map was not checked")
