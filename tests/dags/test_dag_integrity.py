"""Every DAG imports cleanly, cheaply, and is wired from the registry."""

from __future__ import annotations

import itertools
import subprocess
import sys

from connectwise.entities import REGISTRY


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "connectwise_initial_sync" in dagbag.dags


def test_initial_sync_runs_preflight_then_entities_in_seed_order_then_checks(dagbag):
    dag = dagbag.dags["connectwise_initial_sync"]
    order = [task.task_id for task in dag.topological_sort()]
    expected = ["preflight", *(f"sync_{name}" for name in REGISTRY.names())]
    assert order == [*expected, "check_integrity", "summarize"]
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
