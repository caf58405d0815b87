"""The Variable connectwise_sync_interval, stored in Airflow's database, sets the schedule.

The real path: an Airflow home of its own (SQLite metadata), the Variable set with the stock
CLI (what the UI and the REST API also write), and the stock dag-processor parsing the DAG
file; the schedule is read back from the serialized DAG the scheduler uses.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from connectwise.errors import ConnectWiseConfigError
from connectwise.schedule import INTERVAL_VARIABLE, incremental_schedule

from scripts.local_airflow import AIRFLOW, airflow_environment
from tests.support import process_janitor

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "connectwise_incremental_sync"
PARSE_DEADLINE_SECONDS = 180


@pytest.fixture
def janitor(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    yield from process_janitor(monkeypatch, "CW_SYNC_INTERVAL_TEST_RUN")


@pytest.fixture
def airflow_env(tmp_path: Path) -> dict[str, str]:
    """A migrated Airflow home whose DAG folder holds the incremental sync's file only."""
    dags = tmp_path / "dags"
    dags.mkdir()
    shutil.copy(ROOT / "dags" / f"{DAG_ID}.py", dags)
    env = {
        **airflow_environment(tmp_path / "home"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "2",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }
    env.pop("AIRFLOW_VAR_CONNECTWISE_SYNC_INTERVAL", None)
    airflow(env, "db", "migrate")
    return env


def airflow(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert result.returncode == 0, f"airflow {' '.join(args)}: {result.stderr[-2000:]}"
    return result.stdout


def metadata(env: dict[str, str]) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{env['AIRFLOW_HOME']}/airflow.db")


def serialized_schedule(env: dict[str, str]) -> str | None:
    """The cron expression of the newest serialized version of the DAG, or None before any."""
    engine = metadata(env)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                sa.text(
                    "SELECT data, data_compressed FROM serialized_dag WHERE dag_id = :dag "
                    "ORDER BY last_updated DESC LIMIT 1"
                ),
                {"dag": DAG_ID},
            ).first()
    except sa.exc.OperationalError:  # the dag-processor has not written its tables yet
        return None
    finally:
        engine.dispose()
    if row is None:
        return None
    data = json.loads(row.data if row.data is not None else zlib.decompress(row.data_compressed))
    return data["dag"]["timetable"]["__var"]["expression"]


def import_errors(env: dict[str, str]) -> list[str]:
    engine = metadata(env)
    try:
        with engine.connect() as connection:
            errors = connection.execute(sa.text("SELECT stacktrace FROM import_error"))
            return list(errors.scalars())
    finally:
        engine.dispose()


def wait_until(check, what: str, seen) -> None:
    deadline = time.monotonic() + PARSE_DEADLINE_SECONDS
    while not check():
        assert time.monotonic() < deadline, f"still waiting for {what}; seen: {seen()}"
        time.sleep(1)


@contextmanager
def running_dag_processor(env: dict[str, str], janitor, log: Path) -> Iterator[None]:
    """``airflow dag-processor`` as the cluster runs it, stopped (with its parsers) afterwards."""
    with log.open("w") as output:
        process = subprocess.Popen(
            [AIRFLOW, "dag-processor"],
            env={**env, **janitor.env("dag-processor")},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    janitor.track("dag-processor", session=process.pid)
    try:
        yield
    finally:
        janitor.stop("dag-processor", grace=10)
        process.wait(timeout=30)


@pytest.mark.timeout(420)
def test_changing_the_variable_in_the_database_reschedules_at_the_next_parse(
    airflow_env, janitor, tmp_path
):
    airflow(airflow_env, "variables", "set", INTERVAL_VARIABLE, "1h")
    with running_dag_processor(airflow_env, janitor, tmp_path / "dag-processor.log"):

        def seen() -> dict[str, object]:
            return {
                "schedule": serialized_schedule(airflow_env),
                "import errors": import_errors(airflow_env)[-1:],
                "log": (tmp_path / "dag-processor.log").read_text()[-1500:],
            }

        wait_until(lambda: serialized_schedule(airflow_env) == "0 * * * *", "1h", seen)
        airflow(airflow_env, "variables", "set", INTERVAL_VARIABLE, "4h")  # what the UI writes
        wait_until(lambda: serialized_schedule(airflow_env) == "0 */4 * * *", "4h", seen)

        airflow(airflow_env, "variables", "set", INTERVAL_VARIABLE, "10m")
        wait_until(lambda: import_errors(airflow_env), "an import error for 10m", seen)
    message = import_errors(airflow_env)[0]
    assert "Variable connectwise_sync_interval is '10m', which is not an interval" in message
    assert "use one of: 5m, 15m, 30m, 1h, 4h, 1d" in message
    assert serialized_schedule(airflow_env) == "0 */4 * * *"  # the last good version stays


def test_reserializing_from_the_cli_keeps_the_variable_from_the_database(airflow_env):
    """``airflow dags reserialize`` parses in its own process, with no dag-processor to ask."""
    airflow(airflow_env, "variables", "set", INTERVAL_VARIABLE, "30m")
    airflow(airflow_env, "dags", "reserialize")
    assert serialized_schedule(airflow_env) == "*/30 * * * *"


@pytest.fixture
def stored_interval(airflow_db) -> Iterator[object]:
    """Set the Variable in this test session's metadata database; removed afterwards."""
    from airflow.models.variable import Variable

    yield lambda value: Variable.set(INTERVAL_VARIABLE, value)
    Variable.delete(INTERVAL_VARIABLE)


def test_the_environment_variable_overrides_the_database_as_airflow_decides(
    stored_interval, monkeypatch
):
    stored_interval("4h")
    assert incremental_schedule() == "0 */4 * * *"
    monkeypatch.setenv("AIRFLOW_VAR_CONNECTWISE_SYNC_INTERVAL", "1d")
    assert incremental_schedule() == "0 3 * * *"  # 1d runs at 03:00 UTC


def test_a_bad_value_in_the_database_is_named_with_where_to_fix_it(stored_interval):
    stored_interval(" 2h ")
    with pytest.raises(ConnectWiseConfigError) as caught:
        incremental_schedule()
    assert str(caught.value) == (
        "Variable connectwise_sync_interval is ' 2h ', which is not an interval; use one of: "
        "5m, 15m, 30m, 1h, 4h, 1d (edit it under Admin > Variables, or with "
        "`airflow variables set`)."
    )


def test_without_the_variable_the_mapping_setting_applies(airflow_db, tmp_path):
    mapping = tmp_path / "mapping.yaml"
    shipped = (ROOT / "include/mappings/connectwise.yaml").read_text()
    mapping.write_text(shipped.replace("sync_interval: 15m", "sync_interval: 30m"))
    assert incremental_schedule(mapping) == "*/30 * * * *"
