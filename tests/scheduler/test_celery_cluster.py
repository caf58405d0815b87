"""The sync on the production-shaped cluster: CeleryExecutor, Redis, PostgreSQL, two workers.

The cluster is ``scripts/local_cluster.py`` (what docker-compose.yaml runs, from the venv), with
metadata, Celery results and staging in PostgreSQL databases of this test's own and a Redis
database index of its own. One test, because the cluster takes half a minute to start: the
initial sync lands the truth through Celery workers, an incremental run picks up changes, and a
change ConnectWise announces by callback reaches staging through the api-server's receiver.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from connectwise.dag_graph import sync_units
from connectwise.entities import REGISTRY
from connectwise.staging.database import create_staging_engine

from scripts.live_airflow import simulator_connection
from scripts.local_airflow import free_port
from scripts.local_cluster import Cluster
from tests.callback_support import wait_for
from tests.conftest import POSTGRES_URL
from tests.support import assert_matches_truth, staged_rows

pytestmark = [pytest.mark.scheduler, pytest.mark.airflow_run, pytest.mark.postgres]

INITIAL = "connectwise_initial_sync"
INCREMENTAL = "connectwise_incremental_sync"
CALLBACKS = "connectwise_callbacks"
SEED_FILTER = {"customer", "prospect", "suspect"}
REDIS_DB = 14  # the cluster script's default is 5; tests keep out of its way
SERVER = POSTGRES_URL.rsplit("/", 1)[0]


@pytest.fixture
def staging_database() -> Iterator[str]:
    name = f"cw_stage_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    yield f"{SERVER}/{name}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


@pytest.fixture
def cluster(tmp_path: Path, sim_process: object, staging_database: str) -> Iterator[Cluster]:
    api_port = free_port()
    callback_url = f"http://127.0.0.1:{api_port}/connectwise"
    staging = {"conn_type": "generic", "extra": {"sqlalchemy_url": staging_database}}
    connections = {
        "AIRFLOW_CONN_CONNECTWISE_DEFAULT": json.dumps(
            simulator_connection(sim_process, callback_url=callback_url)
        ),
        "AIRFLOW_CONN_CONNECTWISE_STAGING": json.dumps(staging),
    }
    running = Cluster(
        tmp_path / "cluster",
        workers=2,
        database=f"cw_meta_{uuid.uuid4().hex[:10]}",
        redis_db=REDIS_DB,
        api_port=api_port,
        extra_env=connections,
    )
    try:
        running.start(dag_ids=(INITIAL, INCREMENTAL, CALLBACKS))
        yield running
    finally:
        leftovers = running.stop()
        running.drop_database()
        assert not [pid for pid in leftovers if _alive(pid)], "cluster processes survived"


def test_sync_on_celery_workers_lands_the_truth_and_follows_changes(
    cluster, sim_process, staging_database
):
    api = cluster.api
    engine = create_staging_engine(staging_database)

    # 1. The initial sync, every task on a Celery worker.
    run_id = api.trigger(INITIAL)
    run = api.wait_for_run(INITIAL, run_id, timeout=420)
    instances = api.task_instances(INITIAL, run_id)
    states = {ti["task_id"]: ti["state"] for ti in instances}
    assert run["state"] == "success", f"{states}\n{cluster.tail('scheduler')}"
    assert states["install_callbacks"] == "success"  # callback_url is set: entries installed
    assert_matches_truth(engine, sim_process, SEED_FILTER)
    worker_logs = {name: cluster.log_path(name).read_text() for name in ("worker1", "worker2")}
    ran = [ti for ti in instances if ti["state"] in ("success", "skipped") and ti["pid"]]
    assert len(ran) >= len(sync_units())
    for ti in ran:  # a Celery worker received it and ran it (the api reports no worker name)
        assert ti["queue"] == "default", ti["task_id"]
        workload = f"run_id={run_id}/task_id={ti['task_id']}/attempt="
        assert any(
            "Executing workload in Celery: " in line and workload in line
            for log in worker_logs.values()
            for line in log.splitlines()
        ), f"{ti['task_id']} is in no Celery worker's log"
    assert all("Executing workload in Celery" in log for log in worker_logs.values()), (
        "one of the two workers ran nothing"
    )

    # 2. An incremental run picks up what changed since.
    changed = sim_process.mutate("procurement/catalog", update=5, seed=3)["updated"]
    run_id = api.trigger(INCREMENTAL)
    run = api.wait_for_run(INCREMENTAL, run_id, timeout=300)
    assert run["state"] == "success", cluster.tail("scheduler")
    catalog = staged_rows(engine, REGISTRY["catalog_items"])
    truth = {record["id"]: record for record in sim_process.truth("procurement/catalog")}
    assert changed and all(catalog[i]["raw"] == truth[i] for i in changed)

    # 3. ConnectWise announces a change by callback: receiver (api-server) → inbox → DAG → staging.
    api.unpause(CALLBACKS)
    [company_id] = sim_process.mutate("company/companies", update=1, seed=5)["updated"]

    def applied_by_callback() -> bool:
        # Staging commits before the drain marks the delivery applied: wait for both.
        [now] = [c for c in sim_process.truth("company/companies") if c["id"] == company_id]
        if staged_rows(engine, REGISTRY["companies"])[company_id]["raw"] != now:
            return False
        with engine.connect() as connection:
            applied = connection.execute(
                sa.text(
                    "SELECT COUNT(*) FROM meta_callback_inbox WHERE record_id = :id "
                    "AND status = 'applied'"
                ),
                {"id": company_id},
            ).scalar()
        return applied >= 1

    wait_for(applied_by_callback, timeout=180, what="the company's callback applied to staging")


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return status != "Z"
