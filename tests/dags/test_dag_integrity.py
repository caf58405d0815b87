"""Every DAG imports cleanly, cheaply, and is wired from the registry."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from connectwise.dag_graph import sync_task_id, sync_units
from connectwise.entities import REGISTRY


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) >= {
        "connectwise_callbacks",
        "connectwise_callback_setup",
        "connectwise_initial_sync",
        "connectwise_incremental_sync",
        "connectwise_manual_sync",
        "connectwise_preflight",
    }


def test_incremental_sync_is_scheduled_one_run_at_a_time_without_catchup(dagbag):
    dag = dagbag.dags["connectwise_incremental_sync"]
    assert dag.max_active_runs == 1 and dag.catchup is False
    order = [task.task_id for task in dag.topological_sort()]
    assert order == [*(unit.task_id for unit in sync_units()), "reconcile_deletes", "summarize"]


def test_manual_sync_form_offers_every_entity_grouped(dagbag):
    params = dagbag.dags["connectwise_manual_sync"].params
    data_types = params.get_param("data_types")
    assert data_types.schema["items"]["enum"] == REGISTRY.names()
    assert (
        data_types.schema["values_display"]["catalog_items"]
        == "Products / catalog: Product catalog"
    )
    assert params.get_param("mode").schema["enum"] == ["incremental", "full", "remap"]


SYNC_DAGS = ("connectwise_initial_sync", "connectwise_incremental_sync", "connectwise_manual_sync")


def test_initial_sync_runs_preflight_then_entities_along_dependencies_then_checks(dagbag):
    dag = dagbag.dags["connectwise_initial_sync"]
    order = [task.task_id for task in dag.topological_sort()]
    # The grid lists tasks topologically: it still reads in the seed's order.
    expected = ["preflight", "sync_lookups", *(f"sync_{e.name}" for e in REGISTRY if not e.lookup)]
    assert order == [*expected, "check_integrity", "summarize", "install_callbacks"]
    assert dag.get_task("sync_lookups").upstream_task_ids == {"preflight"}
    for entity in REGISTRY:
        upstream = dag.get_task(sync_task_id(entity)).upstream_task_ids
        needed = {sync_task_id(REGISTRY[name]) for name in entity.dependencies}
        assert upstream >= needed - {sync_task_id(entity)}
    # Everything is synced before the checks: each sync task leads to check_integrity.
    assert set(dag.get_task("check_integrity").get_flat_relative_ids(upstream=True)) >= set(
        expected
    )
    assert dag.get_task("summarize").upstream_task_ids == {"check_integrity"}
    assert dag.get_task("install_callbacks").upstream_task_ids == {"summarize"}
    assert dag.schedule is None and dag.max_active_runs == 1


@pytest.mark.parametrize("dag_id", SYNC_DAGS)
def test_entities_that_do_not_depend_on_each_other_run_in_parallel(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    contacts = dag.get_task("sync_contacts")
    companies = dag.get_task("sync_companies")
    catalog = dag.get_task("sync_catalog_items")
    # The seed's real dependencies hold (company types, categories: in the lookups) ...
    assert "sync_lookups" in contacts.upstream_task_ids
    assert "sync_lookups" in companies.upstream_task_ids
    assert "sync_lookups" in catalog.upstream_task_ids
    # ... and independent entities no longer wait for each other.
    assert "sync_contacts" not in companies.get_flat_relative_ids(upstream=True)
    assert "sync_companies" not in contacts.get_flat_relative_ids(upstream=True)
    assert not set(catalog.get_flat_relative_ids(upstream=True)) & {
        "sync_contacts",
        "sync_companies",
    }
    # No chain longer than the references need: lookups, contacts, agreements, their additions.
    syncs = {unit.task_id for unit in sync_units()}
    depth = _longest_chain(dag, syncs)
    assert depth == 4, f"{dag_id}: its sync tasks are a chain {depth} deep"


def _longest_chain(dag, task_ids: set[str]) -> int:
    longest: dict[str, int] = {}
    for task in dag.topological_sort():
        if task.task_id in task_ids:
            longest[task.task_id] = 1 + max(
                (longest[up] for up in task.upstream_task_ids if up in task_ids), default=0
            )
    return max(longest.values())


def test_manual_sync_plan_precedes_every_task_it_may_skip(dagbag):
    dag = dagbag.dags["connectwise_manual_sync"]
    plan = dag.get_task("plan")
    followable = {unit.task_id for unit in sync_units()} | {"reconcile_planned"}
    assert followable <= plan.downstream_task_ids
    summarize = dag.get_task("summarize")
    assert "reconcile_planned" in summarize.upstream_task_ids
    # A skipped reconciliation must not let the counts run before the syncs end.
    assert "sync_opportunities" in summarize.upstream_task_ids


def test_parsing_dags_does_not_import_pandas_great_expectations_or_psycopg():
    # The dag-processor parses every DAG file every 30 s, in a process of its own each time.
    code = (
        "import sys; from airflow.dag_processing.dagbag import DagBag; DagBag(); "
        "print(*(name in sys.modules for name in ('pandas', 'great_expectations', 'psycopg')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip().splitlines()[-1] == "False False False"


def test_tasks_that_check_no_records_import_neither_pandas_nor_great_expectations(tmp_path):
    """summarize, check_integrity and install_callbacks start cheaply (preflight builds the
    quality suites on purpose, so a broken Great Expectations fails before any sync)."""
    code = f"""
import sys
from connectwise import callback_tasks, jobs, tasks  # what those tasks' processes import
job = jobs.open_job(engine=__import__("sqlalchemy").create_engine("sqlite:///{tmp_path}/s.db"))
jobs.run_summary(job)
jobs.run_integrity_check(job, "cheap")
print("pandas" in sys.modules, "great_expectations" in sys.modules)
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip().splitlines()[-1] == "False False"


@pytest.mark.parametrize(
    ("setting", "pools"), [(None, "{'connectwise_api'}"), ("default_pool", "{'default_pool'}")]
)
def test_tasks_run_in_the_api_pool_unless_told_otherwise(setting, pools):
    code = (
        "from airflow.dag_processing.dagbag import DagBag; "
        "print({t.pool for d in DagBag().dags.values() for t in d.tasks})"
    )
    env = {k: v for k, v in os.environ.items() if k != "CONNECTWISE_API_POOL"}
    if setting:
        env["CONNECTWISE_API_POOL"] = setting
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
    )
    assert result.stdout.strip().splitlines()[-1] == pools
