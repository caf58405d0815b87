"""Real schedulers for the tests in this folder: ``airflow standalone`` and the Celery cluster.

Each test starts what it needs in a folder of its own and stops every process it started (the
janitor finds them by an environment marker), so nothing outlives a test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from scripts.janitor import Janitor

RUN_MARKER = "CW_SCHEDULER_TEST_RUN"


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker here too, so these tests also run under --strict-markers alone."""
    config.addinivalue_line("markers", "scheduler: runs DAGs under a real Airflow scheduler")


@pytest.fixture
def janitor(monkeypatch: pytest.MonkeyPatch) -> Iterator[Janitor]:
    """Process bookkeeping for one test; fails the test if anything survives its teardown."""
    keeper = Janitor(uuid.uuid4().hex, RUN_MARKER)
    for key, value in keeper.env("simulator").items():  # the simulator inherits os.environ
        monkeypatch.setenv(key, value)
    yield keeper
    leftovers = keeper.pids()
    if leftovers:
        keeper.stop(grace=5)
    assert not leftovers, f"processes left running after the test: {leftovers}"
