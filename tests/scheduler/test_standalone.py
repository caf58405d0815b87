"""The sync DAGs under ``airflow standalone`` (LocalExecutor): the path every operator uses.

A real scheduler runs each task in a process of its own, in the ``connectwise_api`` pool, along
the registry's dependency graph; ``dag.test`` hides all of that. Triggered through the REST
API, against the simulator over HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from connectwise.dag_graph import sync_task_id
from connectwise.entities import REGISTRY
from connectwise.staging.database import create_staging_engine

from scripts.janitor import Janitor
from scripts.live_airflow import Standalone, simulator_connection
from tests.support import assert_matches_truth

pytestmark = [pytest.mark.scheduler, pytest.mark.airflow_run]

INITIAL = "connectwise_initial_sync"
MANUAL = "connectwise_manual_sync"
SEED_FILTER = {"customer", "prospect", "suspect"}


@pytest.fixture(scope="module")
def standalone(
    tmp_path_factory: pytest.TempPathFactory, module_sim: object, module_janitor: Janitor
) -> Iterator[Standalone]:
    """One standalone for this module's tests (each looks only at its own run)."""
    workdir = tmp_path_factory.mktemp("standalone")
    airflow = Standalone(
        workdir,
        connection=simulator_connection(module_sim),
        staging_url=f"sqlite:///{workdir / 'staging.db'}",
        janitor=module_janitor,
    )
    with airflow:
        airflow.start([INITIAL, MANUAL])
        yield airflow


def staging(standalone: Standalone) -> sa.Engine:
    return create_staging_engine(f"sqlite:///{standalone.workdir / 'staging.db'}")


def test_initial_sync_under_the_scheduler_lands_the_truth(standalone, module_sim):
    sim_process = module_sim
    sim_process.reset_stats()
    api = standalone.api
    run_id = api.trigger(INITIAL)
    run = api.wait_for_run(INITIAL, run_id, timeout=420)
    instances = api.task_instances(INITIAL, run_id)
    states = {ti["task_id"]: ti["state"] for ti in instances}
    assert run["state"] == "success", f"{states}\n{standalone.log_tail()}"

    assert_matches_truth(staging(standalone), sim_process, SEED_FILTER)
    # Every task ran in the API pool, as its own process; independent entities overlapped.
    assert {ti["pool"] for ti in instances} == {"connectwise_api"}
    syncs = [ti for ti in instances if ti["task_id"].startswith("sync_") and ti["end_date"]]
    after_lookups = [ti for ti in syncs if ti["task_id"] != "sync_lookups"]
    first_end = min(ti["end_date"] for ti in after_lookups)
    queued_together = [ti["task_id"] for ti in after_lookups if ti["queued_when"] < first_end]
    assert len(queued_together) >= 2, "entities that need only the lookups were not queued at once"
    # Each entity started only after the entities it references had finished.
    finished = {ti["task_id"]: ti["end_date"] for ti in instances}
    started = {ti["task_id"]: ti["start_date"] for ti in instances}
    for entity in REGISTRY:
        for dependency in entity.dependencies:
            task, needed = sync_task_id(entity), sync_task_id(REGISTRY[dependency])
            if states[task] == "success" and task != needed:
                assert started[task] >= finished[needed]
    # One codebase discovery for the whole run, although every task has its own hook.
    discovery = sim_process.stats()["by_endpoint"].get("GET login/companyinfo/{id}")
    assert discovery == 1

    log = api.task_log(INITIAL, run_id, "sync_contacts")
    assert "contacts: fetched" in log
    assert "Skipping registering function" not in log  # Great Expectations' import chatter
    assert sim_process.private_key not in log


def test_manual_sync_skips_unplanned_entities_without_starting_them(standalone):
    api = standalone.api
    conf = {"data_types": ["contacts"], "mode": "full", "find_deleted": False}
    run_id = api.trigger(MANUAL, conf)
    run = api.wait_for_run(MANUAL, run_id, timeout=300)
    instances = {ti["task_id"]: ti for ti in api.task_instances(MANUAL, run_id)}
    assert run["state"] == "success", json.dumps({k: v["state"] for k, v in instances.items()})

    ran = {task for task, ti in instances.items() if ti["state"] == "success"}
    assert ran == {"plan", "sync_lookups", "sync_contacts", "summarize"}
    skipped = {task for task, ti in instances.items() if ti["state"] == "skipped"}
    assert "sync_catalog_items" in skipped and "reconcile_planned" in skipped
    for task in skipped:  # skipped by the branch: no process was ever started for them
        assert instances[task]["hostname"] in (None, ""), task
        assert instances[task]["pid"] is None, task
    with staging(standalone).connect() as connection:
        synced = connection.execute(
            sa.text(
                "SELECT DISTINCT entity FROM meta_sync_runs WHERE status = 'success' "
                "AND run_id = :run_id"
            ),
            {"run_id": run_id},
        ).scalars()
        assert set(synced) == {"company_types", "contacts"}
