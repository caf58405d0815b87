"""An isolated, local Airflow for the demo and the benchmarks: environment and CLI path."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW = str(Path(sys.executable).parent / "airflow")

# LocalExecutor workers come from a forkserver that imported the heavy modules once, so each
# task forked from a worker starts warm (connectwise/warm.py); the triggerer keeps ``fork``. A
# task's supervisor notices the task exited within a second, not five (docker-compose.yaml).
FAST_LOCAL_EXECUTOR = {
    "AIRFLOW__SCHEDULER__MP_START_METHOD": "forkserver",
    "AIRFLOW__CORE__MP_FORKSERVER_PRELOAD": "connectwise.warm",
    "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
}


def airflow_environment(home: Path, **extra: str) -> dict[str, str]:
    """Environment for Airflow commands: its own home (SQLite), no examples, this project."""
    return dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(ROOT / "plugins"),
        AIRFLOW__CORE__SENSITIVE_VAR_CONN_NAMES="client_id",
        CONNECTWISE_INCLUDE_DIR=str(ROOT / "include"),
        **extra,
    )


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def live_airflow_environment(
    home: Path,
    *,
    api_port: int,
    connection: dict,
    staging_url: str,
    username: str | None = None,
    also_drop: tuple[str, ...] = (),
    **overrides: str,
) -> dict[str, str]:
    """Environment of a live Airflow (standalone or api-server) isolated from any other setup.

    Nothing Airflow- or ConnectWise-related is inherited (nor ``also_drop`` prefixes); the
    connections come as ``AIRFLOW_CONN_*``; DAGs start paused, so scheduled ones stay idle
    until a caller unpauses the DAG it exercises.
    """
    import json
    import secrets

    drop = ("AIRFLOW", "CONNECTWISE_", *also_drop)
    base = {key: value for key, value in os.environ.items() if not key.startswith(drop)}
    database = {"conn_type": "generic", "extra": {"sqlalchemy_url": staging_url}}
    environment = {
        **base,
        # standalone starts its components as a bare `airflow`: the venv's bin must come first.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__SENSITIVE_VAR_CONN_NAMES": "client_id",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        **FAST_LOCAL_EXECUTOR,
        "AIRFLOW_CONN_CONNECTWISE_DEFAULT": json.dumps(connection),
        "AIRFLOW_CONN_CONNECTWISE_STAGING": json.dumps(database),
        "CONNECTWISE_INCLUDE_DIR": str(ROOT / "include"),
        "PYTHONUNBUFFERED": "1",
    }
    if username:
        environment["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] = f"{username}:admin"
    return {**environment, **overrides}
