"""The receiver as deployed: mounted in a real ``airflow api-server`` (waking the callbacks DAG
through an asset event) and as the standalone ``python -m connectwise.callbacks``.

Only the api-server runs in the first test, no scheduler: deliveries are accepted and the run
is queued while the scheduler is down."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from connectwise.callbacks.install import callback_token
from connectwise.site import site_from_connection
from connectwise.staging.database import create_staging_engine

from scripts.local_airflow import live_airflow_environment
from simulator.testing import free_port
from tests.callback_support import delivery, inbox_rows, post_signed, wait_for
from tests.conftest import connection_json

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
INBOX_URI = "connectwise-staging://staging/meta_callback_inbox"


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
