"""The manual sync form, the incremental schedule setting, and a manual run through Airflow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from connectwise.errors import ConnectWiseConfigError
from connectwise.manual import plan_manual_sync
from connectwise.schedule import incremental_schedule

ROOT = Path(__file__).resolve().parents[2]


def test_plan_adds_dependencies_before_the_chosen_entity():
    plan = plan_manual_sync({"data_types": ["catalog_items"], "mode": "full"})
    assert plan.selected == ("catalog_items",)
    assert plan.dependencies == ("categories", "subcategories", "manufacturers", "product_types")
    assert plan.mode_of("catalog_items") == "full"
    assert plan.mode_of("categories") == "incremental"
    assert plan.mode_of("contacts") is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"data_types": []}, "pick at least one data type"),
        ({"data_types": ["tickets"]}, "'tickets' unknown; allowed: company_types"),
        ({"data_types": ["contacts"], "mode": "fast"}, "mode: 'fast' is not allowed"),
        (
            {"data_types": ["contacts"], "mode": "full", "changed_since": "2026-01-01"},
            "changed_since applies to incremental runs only",
        ),
        (
            {"data_types": ["contacts"], "changed_since": "last tuesday"},
            "'last tuesday' is not a date",
        ),
        ({"data_types": ["contacts"], "changed_since": "2999-01-01"}, "is in the future"),
    ],
)
def test_bad_form_values_are_rejected_with_the_reason(params, message):
    with pytest.raises(ConnectWiseConfigError, match=message):
        plan_manual_sync(params)


def dag_schedule(env: dict[str, str]) -> str:
    code = (
        "from airflow.dag_processing.dagbag import DagBag; "
        "print(DagBag().dags['connectwise_incremental_sync'].schedule)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def test_interval_setting_changes_the_dag_schedule(tmp_path):
    assert dag_schedule({}) == "*/15 * * * *"
    assert dag_schedule({"AIRFLOW_VAR_CONNECTWISE_SYNC_INTERVAL": "4h"}) == "0 */4 * * *"
    mapping = tmp_path / "mapping.yaml"
    shipped = (ROOT / "include/mappings/connectwise.yaml").read_text()
    mapping.write_text(shipped.replace("sync_interval: 15m", "sync_interval: 5m"))
    assert dag_schedule({"CONNECTWISE_MAPPING_FILE": str(mapping)}) == "*/5 * * * *"


def test_invalid_interval_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_CONNECTWISE_SYNC_INTERVAL", "10m")
    with pytest.raises(ConnectWiseConfigError, match="use one of: 5m, 15m, 30m, 1h, 4h, 1d"):
        incremental_schedule()


def test_manual_run_touches_only_the_chosen_entities_and_their_dependencies(
    airflow_db, dagbag, shared_simulator, cw_connection, staging_connection, tmp_path
):
    url = f"sqlite:///{tmp_path / 'staging.db'}"
    cw_connection(shared_simulator)
    staging_connection(url)
    dag = dagbag.dags["connectwise_manual_sync"]
    run = dag.test(run_conf={"data_types": ["catalog_items"], "mode": "full"})
    assert run.state == "success"
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        synced = dict(
            connection.execute(
                sa.text("SELECT entity, mode FROM meta_sync_runs WHERE mode != 'reconcile'")
            )
            .tuples()
            .all()
        )
    assert synced == {
        "catalog_items": "full",
        "categories": "full",  # never synced before, so its incremental run starts full
        "subcategories": "full",
        "manufacturers": "full",
        "product_types": "full",
    }
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["sync_contacts"] == "skipped"
    assert states["reconcile_planned"] == "skipped"  # looking for deletes is off unless asked
    assert states["summarize"] == "success"


def test_manual_run_with_bad_params_fails_before_any_api_call(
    airflow_db, dagbag, simulator, cw_connection, staging_connection, tmp_path
):
    cw_connection(simulator)
    staging_connection(f"sqlite:///{tmp_path / 'staging.db'}")
    simulator.reset_stats()
    run = dagbag.dags["connectwise_manual_sync"].test(
        run_conf={"data_types": ["contacts"], "mode": "full", "changed_since": "2026-01-01"}
    )
    assert run.state == "failed"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["plan"] == "failed"
    assert simulator.stats()["requests_total"] == 0
    assert all(
        state in ("upstream_failed", "skipped", None)
        for task, state in states.items()
        if task != "plan"
    ), json.dumps(states)


def test_incremental_dag_run_syncs_changes_and_reconciles(
    airflow_db, dagbag, simulator, cw_connection, staging_connection, tmp_path
):
    from connectwise import jobs
    from connectwise.entities import REGISTRY
    from connectwise.staging.database import create_staging_engine

    from tests.support import assert_matches_truth

    url = f"sqlite:///{tmp_path / 'staging.db'}"
    cw_connection(simulator)
    staging_connection(url)
    engine = create_staging_engine(url)
    for entity in REGISTRY:
        if entity.optional:  # opt-in entities are off in the shipped mapping
            continue
        jobs.run_sync(jobs.open_job(engine=engine), entity.name, mode="full", run_id="initial")
    simulator.mutate("procurement/catalog", create=3, update=3, delete=2)
    run = dagbag.dags["connectwise_incremental_sync"].test()
    assert run.state == "success"
    assert_matches_truth(engine, simulator, {"customer", "prospect", "suspect"})
    with engine.connect() as connection:
        modes = connection.execute(
            sa.text("SELECT entity, mode FROM meta_sync_runs WHERE run_id LIKE :run"),
            {"run": f"{run.run_id}%"},
        ).all()
    assert {mode for _, mode in modes} == {"incremental", "reconcile"}
    assert "agreement_additions" not in {entity for entity, _ in modes}  # optional, not enabled
