"""Asset events under ``airflow standalone``: an analyst's DAG runs on a change, and only then.

The analyst's DAG is the example of docs/analysts.md: scheduled on the plain staging asset, in
a DAG bundle of its own, reading the counts from ``triggering_asset_events``. A real worker also
writes the task log files, where a skipped task's reason must be readable without unfolding
Airflow's "Post Execute" group.
"""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from connectwise.staging.database import create_staging_engine

from scripts.janitor import Janitor
from scripts.live_airflow import Standalone, simulator_connection

pytestmark = [pytest.mark.scheduler, pytest.mark.airflow_run]

MANUAL = "connectwise_manual_sync"
ANALYST = "uses_company_types"
LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"
ANALYST_DAG = """
import json
from pathlib import Path

import pendulum
from airflow.sdk import dag, task

from connectwise.assets import staging_asset
from connectwise.entities import REGISTRY

COMPANY_TYPES = staging_asset(REGISTRY["company_types"])


@dag(schedule=[COMPANY_TYPES], start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False)
def uses_company_types():
    @task
    def record(triggering_asset_events=None):
        events = triggering_asset_events[COMPANY_TYPES]
        Path({out!r}).write_text(json.dumps([event.extra for event in events]))

    record()


uses_company_types()
"""


@pytest.fixture(scope="module")
def standalone(
    tmp_path_factory: pytest.TempPathFactory, module_sim: object, module_janitor: Janitor
) -> Iterator[Standalone]:
    """One standalone for this module's tests; the analyst's DAG in a bundle of its own."""
    tmp_path = tmp_path_factory.mktemp("assets")
    analyst = tmp_path / "analyst_dags"
    analyst.mkdir()
    (analyst / "uses_company_types.py").write_text(
        textwrap.dedent(ANALYST_DAG.format(out=str(tmp_path / "seen.json")))
    )
    bundles = [
        {"name": "dags-folder", "classpath": LOCAL_BUNDLE, "kwargs": {}},
        {"name": "analyst", "classpath": LOCAL_BUNDLE, "kwargs": {"path": str(analyst)}},
    ]
    airflow = Standalone(
        tmp_path,
        connection=simulator_connection(module_sim),
        staging_url=f"sqlite:///{tmp_path / 'staging.db'}",
        janitor=module_janitor,
        extra_env={"AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles)},
    )
    with airflow:
        airflow.start([MANUAL, ANALYST])
        yield airflow


def wait_for_first_run(standalone: Standalone, dag_id: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = standalone.api.runs(dag_id)
        if runs:
            return standalone.api.wait_for_run(dag_id, runs[0]["dag_run_id"], timeout=timeout)
        time.sleep(1)
    raise TimeoutError(f"{dag_id} was not started by the asset event\n{standalone.log_tail()}")


def sync(standalone: Standalone, conf: dict) -> str:
    api = standalone.api
    run_id = api.trigger(MANUAL, {"find_deleted": False, **conf})
    run = api.wait_for_run(MANUAL, run_id, timeout=300)
    states = {ti["task_id"]: ti["state"] for ti in api.task_instances(MANUAL, run_id)}
    assert run["state"] == "success", f"{states}\n{standalone.log_tail()}"
    return run_id


def test_analyst_dag_runs_after_a_change_with_its_counts_and_not_after_none(standalone):
    tmp_path = standalone.workdir
    api = standalone.api
    api.unpause(ANALYST)

    first = sync(standalone, {"data_types": ["company_types"], "mode": "full"})
    run = wait_for_first_run(standalone, ANALYST)
    assert run["state"] == "success", standalone.log_tail()
    engine = create_staging_engine(f"sqlite:///{tmp_path / 'staging.db'}")
    with engine.connect() as connection:
        staged = connection.execute(sa.text("SELECT COUNT(*) FROM stg_company_types")).scalar()
    (seen,) = json.loads((tmp_path / "seen.json").read_text())
    assert (seen["mode"], seen["run_id"], seen["inserted"]) == ("full", first, staged)

    quiet = sync(standalone, {"data_types": ["company_types"], "mode": "incremental"})
    events = api.call("GET", "assets/events", params={"source_run_id": quiet})
    assert events["total_entries"] == 0
    queued = api.call("GET", f"dags/{ANALYST}/assets/queuedEvents")
    assert queued["total_entries"] == 0  # nothing waits to start the analyst's DAG again


def test_skipped_optional_entity_says_why_at_the_top_of_its_log(standalone):
    run_id = sync(standalone, {"data_types": ["agreement_additions"], "mode": "incremental"})
    states = {ti["task_id"]: ti["state"] for ti in standalone.api.task_instances(MANUAL, run_id)}
    assert states["sync_agreement_additions"] == "skipped"
    log = standalone.api.task_log(MANUAL, run_id, "sync_agreement_additions")
    before_the_group = log.split("::group::Post Execute")[0]
    assert "Skipped: agreement_additions is optional" in before_the_group, log
