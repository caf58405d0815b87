"""A live Airflow (``airflow standalone``) against the simulator, for tests driving a real browser.

The stack: the ConnectWise simulator as a subprocess, a throwaway AIRFLOW_HOME (SQLite
metadata, no examples, this repository's dags/ and plugins/), the two connections as
``AIRFLOW_CONN_*`` variables (the simulator over ``http`` and a temporary SQLite staging file),
and one SimpleAuthManager admin whose password is written to the passwords file before start.

Nothing may outlive a test. Airflow and the browser each run in a session of their own, and
Airflow's task supervisors move task processes into process groups of their own (same session),
while ``setproctitle`` rewrites the environment block of several Airflow processes. So the
:class:`Janitor` finds a test's processes three ways: the sessions it started, an id in the
environment (``CW_BROWSER_TEST_RUN``), and paths only this test uses in a command line; it stops
them with SIGTERM, then SIGKILL, and the test fails if any is still there at the end.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.janitor import Janitor
from scripts.live_airflow import Standalone, simulator_connection
from tests.support import process_janitor

BROWSER_DIR = Path(__file__).resolve().parent
ROOT = BROWSER_DIR.parents[1]
VENV_BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
RUN_MARKER = "CW_BROWSER_TEST_RUN"
INSTALL_HINT = "run scripts/install_browser.sh"


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker here too, so these tests also run under --strict-markers alone."""
    config.addinivalue_line(
        "markers", "browser: drives headless Chromium against a live Airflow (slow)"
    )


# --- what the browser side needs ---------------------------------------------------------------


def missing_browser_tools() -> str | None:
    """Return why the browser test cannot run here, or None when it can."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"chromium not installed ({CHROMIUM} missing): {INSTALL_HINT}"
    if shutil.which("node") is None:
        return f"node not found on PATH: install Node.js >= 20, then {INSTALL_HINT}"
    if not (BROWSER_DIR / "node_modules" / "playwright-core" / "package.json").is_file():
        return f"playwright-core not installed in tests/browser/node_modules: {INSTALL_HINT}"
    return None


@pytest.fixture(scope="session")
def browser_tools() -> dict[str, str]:
    """Paths of node and chromium; skip, saying why, when either is missing."""
    reason = missing_browser_tools()
    if reason:
        print(f"\nSKIPPED browser test: {reason}", file=sys.stderr)
        pytest.skip(reason)
    return {"node": shutil.which("node") or "node", "chromium": CHROMIUM}


@pytest.fixture
def janitor(monkeypatch: pytest.MonkeyPatch) -> Iterator[Janitor]:
    """Process bookkeeping for one test; fails the test if anything survives its teardown."""
    yield from process_janitor(monkeypatch, RUN_MARKER)


# --- Airflow -------------------------------------------------------------------------------------


@pytest.fixture
def airflow_stack(tmp_path: Path, sim_process: object, janitor: Janitor) -> Iterator[Standalone]:
    """``airflow standalone`` on a free loopback port, with connectwise_manual_sync unpaused."""
    airflow = Standalone(
        tmp_path,
        connection=simulator_connection(sim_process),
        staging_url=f"sqlite:///{tmp_path / 'staging.db'}",
        janitor=janitor,
    )
    with airflow:
        airflow.start(["connectwise_manual_sync"], timeout=150)
        airflow.api.unpause("connectwise_manual_sync")
        yield airflow
