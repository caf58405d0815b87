"""The initial-sync DAG run through Airflow (dag.test) lands the truth and leaks no secret."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from connectwise.entities import REGISTRY
from connectwise.staging.database import create_staging_engine

from tests.conftest import connection_json
from tests.support import assert_matches_truth

SEED_FILTER = {"customer", "prospect", "suspect"}


class LogCollector(logging.Handler):
    """Keep every formatted log line emitted while a DAG runs."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def collected_logs():
    collector = LogCollector()
    root = logging.getLogger()
    root.addHandler(collector)
    previous = root.level
    root.setLevel(logging.DEBUG)
    yield collector.lines
    root.removeHandler(collector)
    root.setLevel(previous)


def xcom_values() -> list[str]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        return [json.dumps(row.value) for row in session.query(XComModel).all()]


def task_log_text() -> str:
    logs = Path(os.environ["AIRFLOW_HOME"]) / "logs"
    return "\n".join(path.read_text(errors="replace") for path in logs.rglob("*") if path.is_file())


def test_initial_sync_dag_succeeds_and_lands_the_truth(
    airflow_db,
    dagbag,
    shared_simulator,
    cw_connection,
    staging_connection,
    tmp_path,
    capfd,
    collected_logs,
):
    url = f"sqlite:///{tmp_path / 'staging.db'}"
    cw_connection(shared_simulator)
    staging_connection(url)
    shared_simulator.reset_stats()
    run = dagbag.dags["connectwise_initial_sync"].test()
    assert run.state == "success"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["install_callbacks"] == "skipped"  # no callback_url on this connection
    # Each task opens its own hook; the codebase is still discovered once per run (preflight).
    discovery = shared_simulator.stats()["by_endpoint"].get("GET login/companyinfo/{id}")
    assert discovery == 1
    engine = create_staging_engine(url)
    assert_matches_truth(engine, shared_simulator, SEED_FILTER)
    with engine.connect() as connection:
        runs = connection.execute(
            sa.text("SELECT COUNT(*) FROM meta_sync_runs WHERE status = 'success'")
        ).scalar()
    assert runs == len([entity for entity in REGISTRY if not entity.optional])

    output = capfd.readouterr()
    secret = shared_simulator.private_key
    everything = "\n".join(
        [output.out, output.err, task_log_text(), *collected_logs, *xcom_values()]
    )
    assert "What landed in staging" in everything
    assert secret not in everything


def test_failed_run_with_wrong_keys_leaks_no_secret(
    airflow_db,
    dagbag,
    shared_simulator,
    staging_connection,
    tmp_path,
    capfd,
    monkeypatch,
    collected_logs,
):
    wrong_key = "wrong-private-key-0123456789"
    connection = json.loads(connection_json(shared_simulator))
    connection["password"] = wrong_key
    monkeypatch.setenv("AIRFLOW_CONN_CONNECTWISE_DEFAULT", json.dumps(connection))
    staging_connection(f"sqlite:///{tmp_path / 'staging.db'}")
    run = dagbag.dags["connectwise_initial_sync"].test()
    assert run.state == "failed"
    output = capfd.readouterr()
    everything = "\n".join(
        [output.out, output.err, task_log_text(), *collected_logs, *xcom_values()]
    )
    assert "key pair was rejected" in everything
    assert wrong_key not in everything
    assert shared_simulator.private_key not in everything


def test_each_successful_load_emits_an_event_on_its_staging_asset(
    airflow_db, dagbag, shared_simulator, cw_connection, staging_connection, tmp_path
):
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from connectwise.entities import REGISTRY

    cw_connection(shared_simulator)
    staging_connection(f"sqlite:///{tmp_path / 'staging.db'}")
    with create_session() as session:
        before = session.query(AssetEvent).count()
    run = dagbag.dags["connectwise_initial_sync"].test()
    assert run.state == "success"
    with create_session() as session:
        events = (
            session.query(AssetModel.uri)
            .join(AssetEvent, AssetEvent.asset_id == AssetModel.id)
            .order_by(AssetEvent.id)
            .offset(before)
            .all()
        )
    uris = [uri for (uri,) in events]
    expected = [
        f"connectwise-staging://staging/{e.staging_table}" for e in REGISTRY if not e.optional
    ]
    assert sorted(uris) == sorted(expected)
