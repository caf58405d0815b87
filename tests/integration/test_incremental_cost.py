"""Incremental cost follows the changes, not the tables: requests per entity, the contact filter."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from connectwise import jobs
from connectwise.client.hook import ConnectWiseHook
from connectwise.entities import REGISTRY
from connectwise.filters import ContactCompanyTypeFilter
from connectwise.staging.database import create_staging_engine

from tests.support import expected_records, mapping_with_additions, staged_rows

ROOT = Path(__file__).resolve().parents[2]
SEED_FILTER = {"customer", "prospect", "suspect"}
DISCOVERY = "GET login/companyinfo/{id}"
COMPANY_READS = "GET company/companies"
MUTATED = ("company/contacts", "company/companies", "finance/agreements", "procurement/catalog")


@pytest.fixture
def simulator_process() -> Iterator[Any]:
    """A small-scale simulator in a process of its own, stopped after the test."""
    from simulator.testing import SimulatorProcess

    with SimulatorProcess(scale="small", seed=5, quiet=True) as sim:
        yield sim


def sync_each(
    sim: Any, engine: sa.Engine, mode: str, run_id: str, mapping_path: str | None = None
) -> dict[str, Counter[str]]:
    """Sync every enabled entity as the DAGs order them; return each one's requests."""
    requests: dict[str, Counter[str]] = {}
    job = jobs.open_job(engine=engine, mapping_path=mapping_path)
    for entity in REGISTRY:
        if not job.mapping.is_enabled(entity.mapping_section):
            continue
        before = Counter(sim.stats()["by_endpoint"])
        job = jobs.open_job(engine=engine, mapping_path=mapping_path)  # one per task, as in Airflow
        jobs.run_sync(job, entity.name, mode=mode, run_id=run_id)
        requests[entity.name] = Counter(sim.stats()["by_endpoint"]) - before
    return requests


def sync_some(engine: sa.Engine, names: tuple[str, ...], mode: str, run_id: str, **options: Any):
    """Sync the named entities in order; return the last one's figures."""
    figures: dict[str, Any] = {}
    for name in names:
        job = jobs.open_job(engine=engine, **options)
        figures = jobs.run_sync(job, name, mode=mode, run_id=run_id)
    return figures


def over_budget(requests: dict[str, Counter[str]]) -> dict[str, dict[str, int]]:
    """Entities that sent more than two requests, with what they sent."""
    return {name: dict(sent) for name, sent in requests.items() if sum(sent.values()) > 2}


def mapping_variant(tmp_path: Path, old: str, new: str) -> str:
    text = (ROOT / "include/mappings/connectwise.yaml").read_text()
    assert old in text
    path = tmp_path / "mapping-variant.yaml"
    path.write_text(text.replace(old, new))
    return str(path)


def test_incremental_run_without_changes_sends_at_most_two_requests_per_entity(
    simulator_process, cw_connection, staging_url, tmp_path
):
    sim = simulator_process
    cw_connection(sim)
    engine = create_staging_engine(staging_url)
    mapping = mapping_with_additions(tmp_path)  # the child entity too
    initial = sync_each(sim, engine, "full", "initial", mapping)
    quiet_after_initial = sync_each(sim, engine, "incremental", "quiet-1", mapping)
    for path in MUTATED:
        sim.mutate(path, update=3)
    with_changes = sync_each(sim, engine, "incremental", "changes", mapping)
    # Nothing changed since, but the changes above lie within the watermark overlap.
    quiet_after_changes = sync_each(sim, engine, "incremental", "quiet-2", mapping)

    assert over_budget(quiet_after_initial) == {}
    assert over_budget(quiet_after_changes) == {}
    # Additions are read per parent: only under the three changed agreements, and only once.
    assert with_changes["agreement_additions"] == {"GET finance/agreements/{id}/additions": 3}
    assert sum(quiet_after_changes["agreement_additions"].values()) == 0
    # The codebase is discovered once, by the first task, and remembered for the others.
    assert sum(sent[DISCOVERY] for sent in initial.values()) == 1
    later = (quiet_after_initial, with_changes, quiet_after_changes)
    assert sum(sent[DISCOVERY] for run in later for sent in run.values()) == 0


def set_company_types(sim: Any, company_id: int, type_names: list[str]) -> None:
    """Change a company's types as a ConnectWise user does (it stamps ``lastUpdated``).

    The API changes types after creation only through type associations, which the facts do
    not describe; so this edits the in-process simulator's data directly.
    """
    from simulator.resources import REGISTRY as RESOURCES
    from simulator.resources import make_ref
    from simulator.writes import now_stamp

    store = sim.sim.store
    with store.lock:
        company = copy.deepcopy(store["company/companies"].get(company_id))
        types = [t for t in store["company/companies/types"] if t["name"] in type_names]
        company["types"] = [make_ref(RESOURCES["company/companies/types"], t) for t in types]
        company["_info"] = {**company["_info"], "lastUpdated": now_stamp(), "updatedBy": "admin"}
        store["company/companies"].put(company)


def retitle(hook: ConnectWiseHook, contact_id: int, title: str) -> None:
    hook.patch(
        f"company/contacts/{contact_id}", [{"op": "replace", "path": "title", "value": title}]
    )


def company_with_contacts(sim: Any, *, wanted: bool) -> tuple[int, int]:
    """A company with (or without) one of the filter's types, and one of its contacts."""
    contacts = sim.truth("company/contacts")
    for company in sim.truth("company/companies"):
        names = {t["name"].casefold() for t in company["types"]}
        if bool(names & SEED_FILTER) != wanted or company.get("deletedFlag"):
            continue
        mine = [c["id"] for c in contacts if (c.get("company") or {}).get("id") == company["id"]]
        if mine:
            return company["id"], mine[0]
    raise AssertionError("the seeded tenant has no such company")


def test_incremental_contact_filter_reads_only_changed_companies_and_keeps_what_a_full_read_keeps(
    simulator, cw_connection, staging_url
):
    # 10 per page: reading all 50 companies would take 6 requests, the changed ones take 1.
    cw_connection(simulator, page_size=10)
    engine = create_staging_engine(staging_url)
    sync_some(engine, ("company_types", "company_statuses", "contacts", "companies"), "full", "i")
    joining, joining_contact = company_with_contacts(simulator, wanted=False)
    leaving, leaving_contact = company_with_contacts(simulator, wanted=True)
    before = staged_rows(engine, REGISTRY["contacts"])
    assert joining_contact not in before and leaving_contact in before
    set_company_types(simulator, joining, ["Customer"])
    set_company_types(simulator, leaving, ["Vendor"])
    hook = ConnectWiseHook()
    retitle(hook, joining_contact, "Joined with its company")
    retitle(hook, leaving_contact, "Left with its company")
    simulator.reset_stats()

    figures = sync_some(engine, ("contacts",), "incremental", "inc")

    assert simulator.stats()["by_endpoint"][COMPANY_READS] == 1
    staged = staged_rows(engine, REGISTRY["contacts"])
    assert staged[joining_contact]["raw"]["title"] == "Joined with its company"
    # A contact whose company lost its wanted type is not staged again; as before this
    # change, its staged copy stays as it was (not updated, not soft-deleted).
    assert figures["filtered"] >= 1
    assert staged[leaving_contact]["raw"] == before[leaving_contact]["raw"]
    assert staged[leaving_contact]["deleted_at"] is None
    # The incremental filter keeps exactly the contacts a full read of the companies keeps.
    config = jobs.open_job(engine=engine).mapping.config
    incremental, full = ContactCompanyTypeFilter(config), ContactCompanyTypeFilter(config)
    incremental.prepare(hook, engine, is_full_read=False)
    full.prepare(hook, engine, is_full_read=True)
    truth = simulator.truth("company/contacts")
    kept = {c["id"] for c in truth if incremental.keep(c)}
    assert kept == {c["id"] for c in truth if full.keep(c)}
    assert kept == set(expected_records(simulator, REGISTRY["contacts"], SEED_FILTER))


def test_contact_filter_reads_every_company_until_the_companies_are_staged(
    simulator_process, cw_connection, staging_url
):
    sim = simulator_process
    cw_connection(sim, page_size=10)
    engine = create_staging_engine(staging_url)
    sync_some(engine, ("company_types", "contacts"), "full", "i")  # companies never synced
    contact = next(iter(expected_records(sim, REGISTRY["contacts"], SEED_FILTER)))
    retitle(ConnectWiseHook(), contact, "Changed before the companies synced")
    sim.reset_stats()

    sync_some(engine, ("contacts",), "incremental", "inc")

    companies = len(sim.truth("company/companies"))
    assert sim.stats()["by_endpoint"][COMPANY_READS] == companies // 10 + 1  # every page
    staged = staged_rows(engine, REGISTRY["contacts"])
    assert staged.keys() == expected_records(sim, REGISTRY["contacts"], SEED_FILTER).keys()
    assert staged[contact]["raw"]["title"] == "Changed before the companies synced"


def test_all_contacts_filter_reads_no_companies(
    simulator_process, cw_connection, sqlite_url, tmp_path
):
    sim = simulator_process
    cw_connection(sim)
    engine = create_staging_engine(sqlite_url)
    mapping = mapping_variant(
        tmp_path, "company_types: Customer, Prospect, Suspect", "company_types: all"
    )
    sync_some(engine, ("company_types", "contacts"), "full", "i", mapping_path=mapping)
    sync_some(engine, ("contacts",), "incremental", "inc", mapping_path=mapping)

    assert sim.stats()["by_endpoint"].get(COMPANY_READS, 0) == 0
    assert len(staged_rows(engine, REGISTRY["contacts"])) == len(sim.truth("company/contacts"))
