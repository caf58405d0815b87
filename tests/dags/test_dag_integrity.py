"""Every DAG imports cleanly, cheaply, and is wired from the registry."""

from __future__ import annotations

import itertools
import subprocess
import sys

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
    assert order == [
        *(f"sync_{name}" for name in REGISTRY.names()),
        "reconcile_deletes",
        "summarize",
    ]


def test_manual_sync_form_offers_every_entity_grouped(dagbag):
    params = dagbag.dags["connectwise_manual_sync"].params
    data_types = params.get_param("data_types")
    assert data_types.schema["items"]["enum"] == REGISTRY.names()
    assert (
        data_types.schema["values_display"]["catalog_items"]
        == "Products / catalog: Product catalog"
    )
    assert params.get_param("mode").schema["enum"] == ["incremental", "full", "remap"]


def test_initial_sync_runs_preflight_then_entities_in_seed_order_then_checks(dagbag):
    dag = dagbag.dags["connectwise_initial_sync"]
    order = [task.task_id for task in dag.topological_sort()]
    expected = ["preflight", *(f"sync_{name}" for name in REGISTRY.names())]
    assert order == [*expected, "check_integrity", "summarize", "install_callbacks"]
    for upstream, downstream in itertools.pairwise(order):
        assert upstream in dag.get_task(downstream).upstream_task_ids
    assert dag.schedule is None and dag.max_active_runs == 1


def test_parsing_dags_does_not_import_pandas_or_great_expectations():
    code = (
        "import sys; from airflow.dag_processing.dagbag import DagBag; DagBag(); "
        "print('pandas' in sys.modules, 'great_expectations' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip().splitlines()[-1] == "False False"


def test_tasks_run_in_the_configured_api_pool():
    code = (
        "from airflow.dag_processing.dagbag import DagBag; "
        "print({t.pool for d in DagBag().dags.values() for t in d.tasks})"
    )
    env = {**__import__("os").environ, "CONNECTWISE_API_POOL": "connectwise_api"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
    )
    assert result.stdout.strip().splitlines()[-1] == "{'connectwise_api'}"
