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

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from scripts.janitor import Janitor
from scripts.local_airflow import live_airflow_environment
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


# --- the simulator -------------------------------------------------------------------------------


@pytest.fixture
def sim_process(janitor: Janitor) -> Iterator[object]:
    """The simulator (small scale) as a subprocess of its own."""
    from simulator.testing import SimulatorProcess

    with SimulatorProcess(scale="small", seed=7) as sim:
        yield sim


# --- Airflow -------------------------------------------------------------------------------------


@dataclass
class AirflowStack:
    """A running ``airflow standalone`` and how to reach it."""

    home: Path
    base_url: str
    username: str
    password: str
    staging_db: Path
    log_path: Path
    env: dict[str, str] = field(repr=False)
    _token: str | None = field(default=None, repr=False)

    def token(self) -> str:
        """A JWT from ``POST /auth/token`` (cached)."""
        if self._token is None:
            response = httpx.post(
                f"{self.base_url}/auth/token",
                json={"username": self.username, "password": self.password},
                timeout=30,
            )
            response.raise_for_status()
            self._token = response.json()["access_token"]
        return self._token

    def api(self, path: str, **params: object) -> dict:
        """GET ``/api/v2/<path>`` with the bearer token; return the JSON."""
        response = httpx.get(
            f"{self.base_url}/api/v2/{path.lstrip('/')}",
            params=params,
            headers={"Authorization": f"Bearer {self.token()}"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def unpause(self, dag_id: str) -> None:
        """PATCH ``/api/v2/dags/<dag_id>`` with ``is_paused: false``."""
        response = httpx.patch(
            f"{self.base_url}/api/v2/dags/{dag_id}",
            json={"is_paused": False},
            headers={"Authorization": f"Bearer {self.token()}"},
            timeout=30,
        )
        response.raise_for_status()

    def log_tail(self, lines: int = 60) -> str:
        """The last lines of the standalone output, for failure messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    from simulator.testing import free_port

    return free_port()


def airflow_environment(
    home: Path, sim: object, staging_db: Path, username: str, api_port: int
) -> dict[str, str]:
    """The environment of ``airflow standalone``: nothing inherited from other Airflow setups."""
    connection = {
        "conn_type": "connectwise",
        "host": sim.host,
        "login": sim.public_key,
        "password": sim.private_key,
        "extra": {"company_id": sim.company_id, "client_id": sim.client_id, "scheme": "http"},
    }
    return live_airflow_environment(
        home,
        api_port=api_port,
        connection=connection,
        staging_url=f"sqlite:///{staging_db}",
        username=username,
        also_drop=(RUN_MARKER,),
    )


def wait_until_ready(
    stack: AirflowStack, process: subprocess.Popen, dag_id: str, timeout: float
) -> None:
    """Wait for a healthy scheduler and dag-processor and for ``dag_id`` parsed; unpause it."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"airflow standalone exited with {process.returncode}:\n{stack.log_tail()}"
            )
        try:
            health = httpx.get(f"{stack.base_url}/api/v2/monitor/health", timeout=5).json()
            components = ("metadatabase", "scheduler", "dag_processor")
            if all((health.get(c) or {}).get("status") == "healthy" for c in components):
                stack.api(f"dags/{dag_id}")  # 404 until the dag-processor has parsed it
                stack.unpause(dag_id)
                return
            else:
                last = f"health: {health}"
        except (httpx.HTTPError, ValueError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        time.sleep(1)
    raise TimeoutError(f"Airflow not ready after {timeout:.0f} s ({last}):\n{stack.log_tail()}")


@pytest.fixture
def airflow_stack(tmp_path: Path, sim_process: object, janitor: Janitor) -> Iterator[AirflowStack]:
    """``airflow standalone`` on a free loopback port, with connectwise_manual_sync parsed."""
    home = tmp_path / "airflow"
    home.mkdir()
    username, password = "cw-tester", secrets.token_urlsafe(16)
    # SimpleAuthManager generates passwords only for users missing from this file (it is read at
    # api-server start), so writing it first fixes the password of our user.
    (home / "simple_auth_manager_passwords.json.generated").write_text(
        json.dumps({username: password}) + "\n"
    )
    api_port = _free_port()
    staging_db = tmp_path / "staging.db"
    env = {
        **airflow_environment(home, sim_process, staging_db, username, api_port),
        **janitor.env("airflow"),
    }
    log_path = tmp_path / "airflow-standalone.log"
    stack = AirflowStack(
        home, f"http://127.0.0.1:{api_port}", username, password, staging_db, log_path, env
    )
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(VENV_BIN / "airflow"), "standalone"],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    janitor.track("airflow", session=process.pid)
    try:
        wait_until_ready(stack, process, "connectwise_manual_sync", timeout=150)
        yield stack
    finally:
        janitor.stop("airflow")
        process.wait(timeout=10)
