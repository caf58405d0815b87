"""A live Airflow driven the way operators drive it: a real scheduler, the REST API, a pool.

:class:`AirflowApi` is a small client of Airflow 3's REST API (token, trigger, wait, task
instances); :class:`Standalone` runs ``airflow standalone`` (LocalExecutor, SQLite metadata)
isolated in a folder of its own. The real-scheduler tests, the benchmarks and the Celery
cluster (``scripts/cluster.py``) use them, so each measures and asserts the same path.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from scripts.janitor import Janitor
from scripts.local_airflow import free_port, live_airflow_environment

VENV_BIN = Path(sys.executable).parent
API_POOL = "connectwise_api"
API_POOL_SLOTS = 4
FINISHED = ("success", "failed")
# Airflow's own health document names these components.
STANDALONE_COMPONENTS = ("metadatabase", "scheduler", "dag_processor", "triggerer")


@dataclass
class AirflowApi:
    """Airflow's REST API (``/api/v2``) as one SimpleAuthManager user."""

    base_url: str
    username: str
    password: str
    _client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30), repr=False)
    _token: str | None = field(default=None, repr=False)

    def _headers(self) -> dict[str, str]:
        if self._token is None:
            response = self._client.post(
                f"{self.base_url}/auth/token",
                json={"username": self.username, "password": self.password},
            )
            response.raise_for_status()
            self._token = response.json()["access_token"]
        return {"Authorization": f"Bearer {self._token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call ``/api/v2/<path>``; a 5xx (an SQLite metadata database busy) is retried twice."""
        for attempt in range(3):
            response = self._client.request(
                method,
                f"{self.base_url}/api/v2/{path.lstrip('/')}",
                headers=self._headers(),
                **kwargs,
            )
            if response.status_code < 500 or attempt == 2:
                break
            time.sleep(1)
        response.raise_for_status()
        return response.json() if response.content else None

    def health(self) -> dict[str, Any]:
        """Return the monitor's health document (no token needed)."""
        return httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=5).json()

    def wait_healthy(
        self,
        components: Iterable[str],
        dag_ids: Iterable[str] = (),
        *,
        timeout: float = 180,
        alive: Any = None,
    ) -> None:
        """Wait until ``components`` report healthy and ``dag_ids`` are parsed.

        ``alive`` (a callable returning an error text or None) stops the wait early when a
        process behind the API has died.

        Raises:
            TimeoutError: not ready within ``timeout``; the message holds the last answer.
        """
        wanted, dags = tuple(components), tuple(dag_ids)
        deadline, last = time.monotonic() + timeout, "no answer yet"
        while time.monotonic() < deadline:
            problem = alive() if alive else None
            if problem:
                raise RuntimeError(problem)
            try:
                health = self.health()
                if all((health.get(c) or {}).get("status") == "healthy" for c in wanted):
                    for dag_id in dags:
                        self.call("GET", f"dags/{dag_id}")  # 404 until parsed
                    return
                last = f"health: {health}"
            except (httpx.HTTPError, ValueError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            time.sleep(1)
        raise TimeoutError(f"Airflow not ready after {timeout:.0f} s ({last})")

    def ensure_pool(self, name: str = API_POOL, slots: int = API_POOL_SLOTS) -> None:
        """Create or resize a pool (what ``airflow_settings.yaml`` does for the API pool)."""
        body = {"name": name, "slots": slots, "description": "ConnectWise API calls in flight"}
        try:
            self.call("POST", "pools", json=body)
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 409:
                raise
            self.call("PATCH", f"pools/{name}", json=body)

    def unpause(self, dag_id: str) -> None:
        """Unpause a DAG."""
        self.call("PATCH", f"dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        """Unpause and trigger ``dag_id`` now; return the run id."""
        self.unpause(dag_id)
        run = self.call(
            "POST", f"dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}}
        )
        return str(run["dag_run_id"])

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        """Return the DAG's latest runs (up to 100)."""
        return self.call("GET", f"dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"]

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        """Return one DAG run."""
        return self.call("GET", f"dags/{dag_id}/dagRuns/{run_id}")

    def wait_for_run(self, dag_id: str, run_id: str, *, timeout: float = 600) -> dict[str, Any]:
        """Poll until the run finished; return it (``state`` is ``success`` or ``failed``).

        Raises:
            TimeoutError: still running after ``timeout``; the message lists unfinished tasks.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.run(dag_id, run_id)
            if run["state"] in FINISHED:
                return run
            time.sleep(0.5)
        pending = [
            f"{ti['task_id']}={ti['state']}"
            for ti in self.task_instances(dag_id, run_id)
            if ti["state"] not in ("success", "skipped")
        ]
        raise TimeoutError(f"{dag_id} {run_id} unfinished after {timeout:.0f} s: {pending}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Return the run's task instances (state, hostname, queue, times...)."""
        path = f"dags/{dag_id}/dagRuns/{run_id}/taskInstances"
        return self.call("GET", path, params={"limit": 1000})["task_instances"]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        """Return a task's log as text, one event of Airflow 3's structured log per line."""
        path = f"dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}"
        content = self.call("GET", path, params={"full_content": True})["content"]
        if isinstance(content, str):
            return content
        return "\n".join(_log_line(event) for event in content)


def _log_line(event: Any) -> str:
    if not isinstance(event, dict):
        return str(event)
    level = event.get("level", "")
    return f"[{event.get('timestamp', '')}] {level} {event.get('event', '')}".rstrip()


def simulator_connection(sim: Any, **extra: Any) -> dict[str, Any]:
    """Return the ``connectwise_default`` connection (Airflow JSON form) of a simulator."""
    return {
        "conn_type": "connectwise",
        "host": sim.host,
        "login": sim.public_key,
        "password": sim.private_key,
        "extra": {
            "company_id": sim.company_id,
            "client_id": sim.client_id,
            "scheme": "http",
            **extra,
        },
    }


def seconds_between(start: str | None, end: str | None) -> float | None:
    """Return the seconds between two API timestamps (None when either is missing)."""
    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


class Standalone:
    """``airflow standalone`` in ``workdir``: LocalExecutor, SQLite metadata, a free port.

    Connections come as ``AIRFLOW_CONN_*`` (``connection`` to ConnectWise, ``staging_url``);
    DAGs start paused. ``extra_env`` tunes Airflow (e.g. ``AIRFLOW__CORE__PARALLELISM``);
    ``port`` is the api-server's (free by default).
    Every process it starts is stopped on exit, found through ``janitor``.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        connection: dict[str, Any],
        staging_url: str,
        janitor: Janitor,
        part: str = "airflow",
        port: int | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.home = workdir / "airflow"
        self.log_path = workdir / "airflow-standalone.log"
        self.janitor = janitor
        self.part = part
        self.port = port or free_port()  # known in advance when a connection names it
        username, password = "cw-operator", secrets.token_urlsafe(16)
        self.api = AirflowApi(f"http://127.0.0.1:{self.port}", username, password)
        self.env = {
            **live_airflow_environment(
                self.home,
                api_port=self.port,
                connection=connection,
                staging_url=staging_url,
                username=username,
                also_drop=(janitor.marker,),
                **(extra_env or {}),
            ),
            **janitor.env(part),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, dag_ids: Iterable[str] = (), *, timeout: float = 180) -> Standalone:
        """Start, wait until healthy with ``dag_ids`` parsed, and create the API pool."""
        self.home.mkdir(parents=True, exist_ok=True)
        # SimpleAuthManager generates passwords only for users missing from this file (read at
        # api-server start), so writing it first fixes our user's password.
        (self.home / "simple_auth_manager_passwords.json.generated").write_text(
            json.dumps({self.api.username: self.api.password}) + "\n"
        )
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(VENV_BIN / "airflow"), "standalone"],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.janitor.track(self.part, session=self.process.pid)
        try:
            self.api.wait_healthy(STANDALONE_COMPONENTS, dag_ids, timeout=timeout, alive=self._dead)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{exc}\n{self.log_tail()}") from None
        self.api.ensure_pool()
        return self

    def _dead(self) -> str | None:
        if self.process is not None and self.process.poll() is not None:
            return f"airflow standalone exited with {self.process.returncode}:\n{self.log_tail()}"
        return None

    def stop(self) -> list[int]:
        """Stop every process it started; return the pids that needed SIGKILL."""
        stubborn = self.janitor.stop(self.part)
        if self.process is not None:
            self.process.wait(timeout=10)
        return stubborn

    def log_tail(self, lines: int = 60) -> str:
        """Return the last lines of the standalone output, for failure messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> Standalone:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
