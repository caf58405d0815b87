"""Airflow's metadata database (SQLite, in the test AIRFLOW_HOME) for tests that run DAGs."""

from __future__ import annotations

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
