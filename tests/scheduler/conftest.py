"""Real schedulers for the tests in this folder: ``airflow standalone`` and the Celery cluster.

Each test starts what it needs in a folder of its own and stops every process it started (the
janitor finds them by an environment marker), so nothing outlives a test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scripts.janitor import Janitor
from tests.support import process_janitor

RUN_MARKER = "CW_SCHEDULER_TEST_RUN"


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker here too, so these tests also run under --strict-markers alone."""
    config.addinivalue_line("markers", "scheduler: runs DAGs under a real Airflow scheduler")


@pytest.fixture
def janitor(monkeypatch: pytest.MonkeyPatch) -> Iterator[Janitor]:
    """Process bookkeeping for one test; fails the test if anything survives its teardown."""
    yield from process_janitor(monkeypatch, RUN_MARKER)


@pytest.fixture(scope="module")
def module_janitor() -> Iterator[Janitor]:
    """A janitor for a module whose tests share one live Airflow (one start instead of many)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield from process_janitor(monkeypatch, RUN_MARKER)


@pytest.fixture(scope="module")
def module_sim(module_janitor: Janitor) -> Iterator[object]:
    """The small-scale simulator subprocess those tests share (marked by ``module_janitor``)."""
    from simulator.testing import SimulatorProcess

    with SimulatorProcess(scale="small", seed=7) as sim:
        yield sim
