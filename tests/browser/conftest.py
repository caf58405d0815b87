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
from dataclasses import dataclass
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


MANUAL_SYNC = "connectwise_manual_sync"
PREFLIGHT = "connectwise_preflight"
LOST = "\n  Lost: Lost\n"


@dataclass(frozen=True)
class ConsoleMapping:
    """The mapping file the live Airflow reads: "Lost" left out until a test fixes it."""

    path: Path
    fixed: str  # the file's text once the operator has added "Lost" back


@pytest.fixture(scope="package")
def console_mapping(tmp_path_factory: pytest.TempPathFactory) -> ConsoleMapping:
    """The shipped mapping without the opportunity status "Lost" (so some records quarantine)."""
    shipped = (ROOT / "include/mappings/connectwise.yaml").read_text()
    assert LOST in shipped
    # Lost opportunities are a large share of a small tenant: let such a run finish anyway.
    tolerant = shipped.replace("max_quarantine_ratio: 0.05", "max_quarantine_ratio: 1.0")
    path = tmp_path_factory.mktemp("mapping") / "mapping.yaml"
    path.write_text(tolerant.replace(LOST, "\n"))
    return ConsoleMapping(path, tolerant)


@pytest.fixture(scope="package")
def session_janitor() -> Iterator[Janitor]:
    """Process bookkeeping for what the browser tests share; checked after the last of them."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield from process_janitor(monkeypatch, RUN_MARKER)


@pytest.fixture(scope="package")
def live_sim(browser_tools: dict[str, str], session_janitor: Janitor) -> Iterator[object]:
    """The simulator (small scale) as a subprocess, behind the live Airflow."""
    from simulator.testing import SimulatorProcess

    with SimulatorProcess(scale="small", seed=7) as sim:
        yield sim


@pytest.fixture(scope="package")
def live_airflow(
    tmp_path_factory: pytest.TempPathFactory,
    live_sim: object,
    session_janitor: Janitor,
    console_mapping: ConsoleMapping,
) -> Iterator[Standalone]:
    """One ``airflow standalone`` for every browser test (each looks only at what it did).

    SQLite staging, the connection Test button on, the mapping of :func:`console_mapping`; the
    manual sync and the preflight unpaused. Starting it once saves each test about 25 s; it
    stops after the package's last test, so it does not slow the tests that follow.
    """
    workdir = tmp_path_factory.mktemp("live-airflow")
    airflow = Standalone(
        workdir,
        connection=simulator_connection(live_sim),
        staging_url=f"sqlite:///{workdir / 'staging.db'}",
        janitor=session_janitor,
        extra_env={
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "CONNECTWISE_MAPPING_FILE": str(console_mapping.path),
        },
    )
    with airflow:
        airflow.start([MANUAL_SYNC, PREFLIGHT], timeout=150)
        for dag_id in (MANUAL_SYNC, PREFLIGHT):
            airflow.api.unpause(dag_id)
        yield airflow


@pytest.fixture
def staging_of(live_airflow: Standalone) -> Path:
    """The live Airflow's SQLite staging file."""
    return live_airflow.workdir / "staging.db"
