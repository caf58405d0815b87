"""The initial-sync DAG run through Airflow (dag.test) lands the truth and leaks no secret."""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from connectwise.entities import REGISTRY
from connectwise.staging.database import create_staging_engine
from connectwise.staging.history import as_datetime

from tests.conftest import connection_json
from tests.dags.asset_support import events_of
from tests.dags.conftest import LogCollector
from tests.support import assert_matches_truth

SEED_FILTER = {"customer", "prospect", "suspect"}


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


@pytest.fixture(scope="module")
def initial_run(airflow_db, dagbag, shared_simulator, tmp_path_factory):
    """One initial-sync run through Airflow, on a staging database of its own."""
    url = f"sqlite:///{tmp_path_factory.mktemp('initial') / 'staging.db'}"
    staging = json.dumps({"conn_type": "generic", "extra": {"sqlalchemy_url": url}})
    collector = LogCollector()
    root = logging.getLogger()
    root.addHandler(collector)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AIRFLOW_CONN_CONNECTWISE_DEFAULT", connection_json(shared_simulator))
        env.setenv("AIRFLOW_CONN_CONNECTWISE_STAGING", staging)
        run = dagbag.dags["connectwise_initial_sync"].test()
    root.removeHandler(collector)
    assert run.state == "success"
    return run, create_staging_engine(url), collector.lines


def test_each_loaded_table_gets_one_event_with_what_the_load_did(initial_run):
    run, engine, _ = initial_run
    events = events_of(run)
    expected = sorted(entity.staging_table for entity in REGISTRY if not entity.optional)
    assert sorted(table for table, _ in events) == expected  # one each, none for the skipped
    with engine.connect() as connection:
        for table, extra in events:
            entity = extra["entity"]
            staged = connection.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar()
            quarantined = connection.execute(
                sa.text("SELECT COUNT(*) FROM meta_quarantine WHERE entity = :entity"),
                {"entity": entity},
            ).scalar()
            watermark = connection.execute(
                sa.text("SELECT watermark FROM meta_watermarks WHERE entity = :entity"),
                {"entity": entity},
            ).scalar()
            assert REGISTRY[entity].staging_table == table
            assert (extra["mode"], extra["run_id"]) == ("full", run.run_id)
            assert (extra["inserted"], extra["updated"], extra["soft_deleted"]) == (staged, 0, 0)
            assert extra["quarantined"] == quarantined
            assert datetime.fromisoformat(extra["watermark"]) == as_datetime(watermark)


def test_skipped_optional_entity_says_why_in_its_log_and_the_summary(initial_run):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    run, _, lines = initial_run
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["sync_agreement_additions"] == "skipped"
    reason = "agreement_additions is optional and"
    # Airflow logs a skip's reason inside the collapsed "Post Execute" log group; the task
    # says it first, as a line of its own.
    assert any(line.startswith(f"Skipped: {reason}") for line in lines)
    with create_session() as session:
        row = session.scalars(
            sa.select(XComModel).where(
                XComModel.dag_id == run.dag_id,
                XComModel.run_id == run.run_id,
                XComModel.task_id == "summarize",
                XComModel.key == "return_value",
            )
        ).one()
        summary = XComModel.deserialize_value(row)
    not_synced = {item["entity"]: item.get("not_synced") for item in summary}
    assert not_synced["agreement_additions"].startswith(reason)
    assert "add the section (see docs/mapping.md)" in not_synced["agreement_additions"]
    assert not_synced["contacts"] is None
    assert any(line.startswith(f"Not synced: {reason}") for line in lines)


def test_each_task_leaves_one_xcom_its_return_value(initial_run):
    """A task's figures are one XCom, not one more per key (each is an execution-API call)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    run, _, _ = initial_run
    with create_session() as session:
        rows = session.execute(
            sa.select(XComModel.task_id, XComModel.key).where(
                XComModel.dag_id == run.dag_id, XComModel.run_id == run.run_id
            )
        ).all()
    keys_by_task: dict[str, set[str]] = {}
    for task_id, key in rows:
        keys_by_task.setdefault(task_id, set()).add(key)
    assert {"preflight", "sync_contacts", "summarize"} <= set(keys_by_task)
    assert {task: keys for task, keys in keys_by_task.items() if keys != {"return_value"}} == {}
