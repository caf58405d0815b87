"""Airflow's metadata database (SQLite, in the test AIRFLOW_HOME) for tests that run DAGs."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Create the metadata tables once per session."""
    from airflow.utils import db

    db.initdb()


@pytest.fixture(scope="session")
def dagbag():
    """Parse the project's dags/ folder once."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag()


@pytest.fixture(autouse=True)
def _params_restored(request: pytest.FixtureRequest):
    """Give back the session DAGs' Param values a test's ``dag.test(run_conf=...)`` set.

    A run's conf stays on the DAG's and its tasks' Param objects (even on a copy of the DAG),
    so a later test of the same DAG would run with an earlier test's values.
    """
    if "dagbag" not in request.fixturenames:
        yield
        return
    bag = request.getfixturevalue("dagbag")
    saved = [
        (param, param.value)
        for dag in bag.dags.values()
        for params in (dag.params, *(task.params for task in dag.tasks))
        for param in (params.get_param(key) for key in params)
    ]
    yield
    for param, value in saved:
        param.value = value


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
