"""Many tenants in one deployment: DAGs per tenant, each tenant's staging in its own schema.

Three tenants on PostgreSQL schemas against three simulators with different data: one
healthy, one throttling (30 requests per 5 s window, so bursts are refused), one with a
wrong key. The healthy
and the throttled tenants land exactly their own simulator's truth; the broken one fails alone
with its own message; nothing crosses schemas.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from connectwise.staging.database import create_staging_engine, tenant_url
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL, connection_json
from tests.dags.asset_support import DAGS, events_of
from tests.support import assert_matches_truth

SEED_FILTER = {"customer", "prospect", "suspect"}
TENANTS = ("acme", "globex", "initech")
BASE_DAGS = (
    "connectwise_callback_setup",
    "connectwise_callbacks",
    "connectwise_incremental_sync",
    "connectwise_initial_sync",
    "connectwise_manual_sync",
    "connectwise_preflight",
    "connectwise_push",
)


def parse_dags() -> dict[str, Any]:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    return bag.dags


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Three tenants (three simulators), a tenants file, and their parsed DAGs."""
    from simulator.testing import running_simulator

    prefix = f"t{uuid.uuid4().hex[:8]}"
    folder = tmp_path_factory.mktemp("tenants")
    lines = ["tenants:"]
    for name in TENANTS:
        lines += [
            f"  - id: {name}",
            f"    connectwise_conn_id: connectwise_{name}",
            f"    schema: {prefix}_{name}",
            f"    pool_slots: {3 if name == 'globex' else 4}",
        ]
        if name == "globex":
            lines += ["    sync_interval: 1h", "    queue: eu"]
    lines += ["  - id: hooli", "    connectwise_conn_id: connectwise_hooli", "    enabled: false"]
    (folder / "tenants.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with (
        running_simulator(scale="small", seed=21) as acme,
        running_simulator(
            scale="small",
            seed=22,
            throttle_per_minute=30,  # per 5 s window: throttled in bursts, as a busy tenant
            throttle_window_seconds=5,
            retry_after_seconds=1,
        ) as globex,
        running_simulator(scale="small", seed=23) as initech,
        pytest.MonkeyPatch.context() as env,
    ):
        env.setenv("CONNECTWISE_TENANTS_FILE", str(folder / "tenants.yaml"))
        staging = {"conn_type": "generic", "extra": {"sqlalchemy_url": POSTGRES_URL}}
        env.setenv("AIRFLOW_CONN_CONNECTWISE_STAGING", json.dumps(staging))
        wrong = json.loads(connection_json(initech))
        wrong["password"] = "wrong-private-key-for-initech"
        for name, connection in (
            ("acme", connection_json(acme)),
            ("globex", connection_json(globex, max_retries=12)),
            ("initech", json.dumps(wrong)),
        ):
            env.setenv(f"AIRFLOW_CONN_CONNECTWISE_{name.upper()}", connection)
        yield {
            "dags": parse_dags(),
            "sims": {"acme": acme, "globex": globex, "initech": initech},
            "schemas": {name: f"{prefix}_{name}" for name in TENANTS},
        }
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        for name in TENANTS:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {prefix}_{name} CASCADE")
    admin.dispose()


def tenant_engine(deployment: dict[str, Any], tenant: str) -> sa.Engine:
    url = tenant_url(make_url(POSTGRES_URL), deployment["schemas"][tenant])
    return create_staging_engine(url)


def count(engine: sa.Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(sql)).scalar() or 0)


# --- the DAGs of a deployment with tenants -----------------------------------------------------


def test_each_enabled_tenant_gets_every_dag_in_its_own_pool(deployment) -> None:
    dags = deployment["dags"]

    assert set(dags) == {
        f"{base}__{tenant}" for base in BASE_DAGS for tenant in TENANTS
    } | {"connectwise_tenants"}
    for tenant in TENANTS:
        initial = dags[f"connectwise_initial_sync__{tenant}"]
        assert "tenant:" + tenant in initial.tags
        assert {task.pool for task in initial.tasks} == {f"connectwise_api__{tenant}"}
    globex = dags["connectwise_incremental_sync__globex"]
    assert globex.timetable.expression == "0 * * * *"  # its own sync_interval
    assert {task.queue for task in globex.tasks} == {"eu"}
    inbox = dags["connectwise_callbacks__acme"].timetable.asset_condition
    assert "connectwise-staging://acme/meta_callback_inbox" in str(inbox)


# --- three tenants, three simulators, three schemas -------------------------------------------


@pytest.fixture(scope="module")
def initial_runs(airflow_db, deployment) -> dict[str, Any]:
    """The initial sync of every tenant, one after the other."""
    return {
        tenant: deployment["dags"][f"connectwise_initial_sync__{tenant}"].test()
        for tenant in TENANTS
    }


def test_healthy_tenants_land_their_own_truth_and_nothing_crosses(deployment, initial_runs) -> None:
    for tenant in ("acme", "globex"):
        assert initial_runs[tenant].state == "success", tenant
        engine = tenant_engine(deployment, tenant)
        # Raw records compared one by one: another tenant's data (other seeds) would differ.
        assert_matches_truth(engine, deployment["sims"][tenant], SEED_FILTER)
        engine.dispose()
    assert deployment["sims"]["globex"].stats()["throttled"] > 0  # and it still landed all
    assert deployment["sims"]["acme"].stats()["throttled"] == 0


def test_the_broken_tenant_fails_alone_with_its_own_message(deployment, initial_runs) -> None:
    run = initial_runs["initech"]
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}

    assert run.state == "failed"
    assert states["preflight"] == "failed"
    engine = tenant_engine(deployment, "initech")
    with engine.connect() as connection:
        failed = connection.execute(
            sa.text("SELECT name, detail FROM meta_preflight WHERE NOT ok")
        ).all()
    assert any("key pair was rejected" in str(detail) for _name, detail in failed)
    assert count(engine, "SELECT COUNT(*) FROM stg_companies") == 0
    engine.dispose()
    for tenant in ("acme", "globex"):
        other = tenant_engine(deployment, tenant)
        with other.connect() as connection:
            failing = connection.execute(
                sa.text("SELECT detail FROM meta_preflight WHERE NOT ok")
            ).scalars()
            # The throttled tenant's optional checks may give up on 429s: its own trouble.
            assert all("HTTP 429" in detail for detail in failing), tenant
        other.dispose()


def test_each_tenants_asset_events_are_its_own_assets(initial_runs) -> None:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    assert events_of(initial_runs["acme"]), "the acme run emitted no asset event"
    with create_session() as session:
        uris = session.scalars(
            select(AssetModel.uri)
            .join(AssetEvent, AssetEvent.asset_id == AssetModel.id)
            .where(AssetEvent.source_run_id == initial_runs["acme"].run_id)
        ).all()
    assert uris and all(uri.startswith("connectwise-staging://acme/stg_") for uri in uris)


def test_without_a_tenants_file_the_dag_ids_stay(deployment, monkeypatch) -> None:
    monkeypatch.delenv("CONNECTWISE_TENANTS_FILE")

    dags = parse_dags()

    assert set(dags) == set(BASE_DAGS)
    assert {task.pool for task in dags["connectwise_initial_sync"].tasks} == {"connectwise_api"}


def test_the_tenants_dag_says_what_it_shows_and_links_the_console(deployment) -> None:
    dag = deployment["dags"]["connectwise_tenants"]

    assert dag.description and len(dag.description) <= 90
    assert "[ConnectWise console](/connectwise-console/)" in dag.doc_md
    assert dag.timetable.expression == "*/15 * * * *"


def overview_rows(run: Any) -> dict[str, dict[str, Any]]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        value = (
            session.query(XComModel)
            .filter_by(dag_id=run.dag_id, run_id=run.run_id, task_id="overview")
            .one()
            .value
        )
    rows = json.loads(value) if isinstance(value, str) else value
    return {row["tenant"]: row for row in rows}


def test_the_tenants_overview_has_one_row_per_tenant(deployment, initial_runs) -> None:
    run = deployment["dags"]["connectwise_tenants"].test()

    assert run.state == "success"  # a broken tenant is a row, not a failed run
    rows = overview_rows(run)
    assert set(rows) == set(TENANTS)
    acme = rows["acme"]
    assert acme["last_success_at"] and 0 <= acme["lag_seconds"] < 600
    assert acme["rows"] > 0 and acme["failed_entities"] == [] and acme["failing_check"] is None
    initech = rows["initech"]
    assert (initech["last_success_at"], initech["rows"]) == (None, 0)
    assert "key pair was rejected" in initech["failing_check"]
