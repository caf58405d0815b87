"""Shared fixtures: an isolated Airflow home, the simulator, connections and staging databases.

Airflow reads its configuration when first imported, so the environment is set here, at import
time, before any test module imports airflow.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="cw-airflow-home-")
atexit.register(shutil.rmtree, _AIRFLOW_HOME, ignore_errors=True)
os.environ.update(
    {
        "AIRFLOW_HOME": _AIRFLOW_HOME,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",  # task logs are read by the secrets tests
        "AIRFLOW__CORE__SENSITIVE_VAR_CONN_NAMES": "client_id",
        "CONNECTWISE_INCLUDE_DIR": str(ROOT / "include"),
    }
)
os.environ.pop("CONNECTWISE_MAPPING_FILE", None)

POSTGRES_URL = os.environ.get(
    "CONNECTWISE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def connection_json(sim, **extra_overrides) -> str:
    """The Airflow JSON form of a connection to the simulator ``sim``."""
    extra = {
        "company_id": sim.company_id,
        "client_id": sim.client_id,
        "scheme": "http",
        "backoff_base": 0.01,
        "backoff_cap": 0.05,
        "read_timeout": 10,
        **extra_overrides,
    }
    return json.dumps(
        {
            "conn_type": "connectwise",
            "host": sim.host,
            "login": sim.public_key,
            "password": sim.private_key,
            "extra": extra,
        }
    )


@pytest.fixture(scope="session")
def shared_simulator() -> Iterator[object]:
    """A small-scale simulator for tests that only read."""
    from simulator.testing import running_simulator

    with running_simulator(scale="small", seed=7) as sim:
        yield sim


@pytest.fixture
def sim_process(janitor) -> Iterator[object]:
    """The simulator (small scale) as a subprocess of its own, for tests of live processes.

    ``janitor`` (each such folder's conftest) marks it, so nothing outlives the test.
    """
    from simulator.testing import SimulatorProcess

    with SimulatorProcess(scale="small", seed=7) as sim:
        yield sim


@pytest.fixture
def simulator() -> Iterator[object]:
    """A fresh small-scale simulator for tests that write, mutate or inject faults."""
    from simulator.testing import running_simulator

    with running_simulator(scale="small", seed=11) as sim:
        yield sim


@pytest.fixture
def cw_connection(monkeypatch: pytest.MonkeyPatch):
    """Point ``connectwise_default`` at a simulator: ``cw_connection(sim, **extra)``."""

    def configure(sim, **extra) -> None:
        monkeypatch.setenv("AIRFLOW_CONN_CONNECTWISE_DEFAULT", connection_json(sim, **extra))

    return configure


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a new, empty SQLite staging database."""
    return f"sqlite:///{tmp_path / 'staging.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a new, empty PostgreSQL schema (dropped afterwards)."""
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except sa.exc.OperationalError as exc:  # pragma: no cover - the service is part of CI
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is not reachable: {exc}")
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def staging_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def staging_connection(monkeypatch: pytest.MonkeyPatch):
    """Point ``connectwise_staging`` at a database URL."""

    def configure(url: str) -> None:
        monkeypatch.setenv(
            "AIRFLOW_CONN_CONNECTWISE_STAGING",
            json.dumps({"conn_type": "generic", "extra": {"sqlalchemy_url": url}}),
        )

    return configure
