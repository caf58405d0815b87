"""The receiver as deployed: mounted in a real ``airflow api-server`` (waking the callbacks DAG
through an asset event) and as the standalone ``python -m connectwise.callbacks``.

Only the api-server runs in the first test, no scheduler: deliveries are accepted and the run
is queued while the scheduler is down. The logs are read as each process wrote them (stdout and
stderr): the path token must never be in them, also when a request fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from connectwise.callbacks.install import callback_token
from connectwise.client.site import site_from_connection
from connectwise.staging.database import create_staging_engine

from scripts.local_airflow import live_airflow_environment
from simulator.testing import free_port
from tests.callback_support import delivery, inbox_rows, post_signed, wait_for
from tests.conftest import connection_json

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
INBOX_URI = "connectwise-staging://staging/meta_callback_inbox"
POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
# Nested deeper than json.loads can recurse: a RecursionError, not a ValueError.
TOO_DEEP_JSON = b"[" * 200_000 + b"]" * 200_000


def environment(home: Path, sim, staging_url: str, callback_url: str) -> dict[str, str]:
    return live_airflow_environment(
        home,
        api_port=free_port(),  # the api-server test passes its own --port
        connection=json.loads(connection_json(sim, callback_url=callback_url)),
        staging_url=staging_url,
        # Unpaused, so the asset event queues a run; INFO, so access logs show (minus tokens).
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
    )


@contextlib.contextmanager
def serving(command: list[str], env: dict[str, str], health_url: str, log: Path) -> Iterator[None]:
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:

        def healthy() -> bool:
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                return httpx.get(health_url, timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, timeout=120, what=f"{command[-3:]} healthy")
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def token_of(sim) -> str:
    extra = json.loads(connection_json(sim))["extra"]
    return callback_token(site_from_connection(sim.host, sim.public_key, sim.private_key, extra))


@pytest.mark.airflow_run
def test_api_server_plugin_accepts_deliveries_and_queues_the_callbacks_dag(simulator, tmp_path):
    home = tmp_path / "airflow"
    home.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}/connectwise"
    staging_url = f"sqlite:///{tmp_path / 'staging.db'}"
    env = environment(home, simulator, staging_url, base)
    airflow = str(VENV_BIN / "airflow")
    for step in (["db", "migrate"], ["dags", "reserialize"]):
        subprocess.run([airflow, *step], env=env, check=True, capture_output=True, timeout=180)
    record = simulator.truth("system/members")[0]
    body = delivery(simulator, "member", "updated", record)
    command = [airflow, "api-server", "--port", str(port), "--host", "127.0.0.1"]
    with serving(command, env, f"{base}/health", tmp_path / "api-server.log"):
        url = f"{base}/callbacks/{token_of(simulator)}?recordId={record['id']}"
        assert post_signed(url, simulator, body).json() == {"status": "accepted"}
        assert (
            post_signed(url.replace("/callbacks/", "/callbacks/x"), simulator, body).status_code
            == 404
        )
        assert post_signed(url, simulator, TOO_DEEP_JSON).status_code == 400
        # Airflow's own API still wants a token; only the receiver is open.
        assert httpx.get(f"http://127.0.0.1:{port}/api/v2/dags", timeout=10).status_code == 401

        metadata = sa.create_engine(f"sqlite:///{home / 'airflow.db'}")

        def queued() -> bool:
            with metadata.connect() as connection:
                return bool(
                    connection.execute(
                        sa.text(
                            "SELECT COUNT(*) FROM asset_dag_run_queue q JOIN asset a "
                            "ON a.id = q.asset_id WHERE a.uri = :uri "
                            "AND q.target_dag_id = 'connectwise_callbacks'"
                        ),
                        {"uri": INBOX_URI},
                    ).scalar()
                )

        wait_for(queued, timeout=30, what="a queued connectwise_callbacks run")
    log = (tmp_path / "api-server.log").read_text()
    assert "/connectwise/callbacks/***" in log  # requests are logged, tokens are not
    assert token_of(simulator) not in log and simulator.private_key not in log
    [row] = inbox_rows(create_staging_engine(staging_url))
    assert (row["callback_type"], row["record_id"], row["status"]) == (
        "member",
        record["id"],
        "pending",
    )


def test_standalone_receiver_serves_the_same_routes(simulator, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}/connectwise"
    staging_url = f"sqlite:///{tmp_path / 'staging.db'}"
    env = {
        **environment(tmp_path, simulator, staging_url, base),
        "CONNECTWISE_RECEIVER_PORT": str(port),
        "CONNECTWISE_RECEIVER_HOST": "127.0.0.1",
    }
    command = [sys.executable, "-m", "connectwise.callbacks"]
    with serving(command, env, f"{base}/health", tmp_path / "receiver.log"):
        health = httpx.get(f"{base}/health", timeout=5).json()
        assert health["status"] == "ok" and "sweep" in health["wake"]
        record = simulator.truth("company/contacts")[0]
        body = delivery(simulator, "contact", "added", record)
        url = f"{base}/callbacks/{token_of(simulator)}?recordId={record['id']}"
        assert post_signed(url, simulator, body).json() == {"status": "accepted"}
        assert httpx.post(url, content=body, timeout=5).status_code == 401
    log = (tmp_path / "receiver.log").read_text()
    assert simulator.private_key not in log and token_of(simulator) not in log
    assert [row["record_id"] for row in inbox_rows(create_staging_engine(staging_url))] == [
        record["id"]
    ]


@pytest.fixture
def outage_database() -> Iterator[tuple[str, object]]:
    """A fresh PostgreSQL database and a function that takes it away (dropped afterwards)."""
    name = f"cw_rx_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")

    def take_down() -> None:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db"
                ),
                {"db": name},
            )

    try:
        yield f"{POSTGRES_SERVER}/{name}", take_down
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
            connection.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
        admin.dispose()


@contextlib.contextmanager
def standalone(sim, staging_url: str, log: Path) -> Iterator[str]:
    """Serve ``python -m connectwise.callbacks``; yield the delivery URL (with the token)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/connectwise"
    env = {
        **environment(log.parent, sim, staging_url, base),
        "CONNECTWISE_RECEIVER_PORT": str(port),
        "CONNECTWISE_RECEIVER_HOST": "127.0.0.1",
    }
    with serving([sys.executable, "-m", "connectwise.callbacks"], env, f"{base}/health", log):
        yield f"{base}/callbacks/{token_of(sim)}?recordId=1"


def assert_token_masked(log: Path, sim) -> None:
    text = log.read_text(errors="replace")
    assert token_of(sim) not in text
    assert "/connectwise/callbacks/***?recordId=1" in text  # the request is logged, masked


@pytest.mark.postgres
def test_standalone_receiver_answers_503_while_staging_is_down_and_logs_no_token(
    simulator, tmp_path, outage_database
):
    staging_url, take_down = outage_database
    log = tmp_path / "receiver.log"
    record = simulator.truth("company/contacts")[0]
    with standalone(simulator, staging_url, log) as url:
        accepted = post_signed(url, simulator, delivery(simulator, "contact", "added", record))
        assert accepted.json() == {"status": "accepted"}
        take_down()
        response = post_signed(url, simulator, delivery(simulator, "contact", "updated", record))
        assert response.status_code == 503, response.text
        assert int(response.headers["Retry-After"]) > 0  # ConnectWise may try again
        assert token_of(simulator) not in response.text
    assert_token_masked(log, simulator)
    assert "OperationalError" in log.read_text()  # the cause is logged, without secrets


def test_standalone_receiver_refuses_too_deep_json_with_400_and_logs_no_token(simulator, tmp_path):
    log = tmp_path / "receiver.log"
    with standalone(simulator, f"sqlite:///{tmp_path / 'staging.db'}", log) as url:
        response = post_signed(url, simulator, TOO_DEEP_JSON)
        assert response.status_code == 400, response.text
        assert response.json() == {"error": "body is not valid JSON"}
    assert_token_masked(log, simulator)
