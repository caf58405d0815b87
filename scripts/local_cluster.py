"""A local Airflow cluster like docker-compose.yaml's, as a Python object (see scripts/cluster.py).

:class:`Cluster` starts CeleryExecutor components from the venv against PostgreSQL and Redis on
this machine, checks their health and stops exactly what it started. The command line is
scripts/cluster.py.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from pathlib import Path

import psycopg

from scripts.cluster_health import ComponentStatus, component_statuses
from scripts.cluster_processes import (
    Recorded,
    create_database,
    drop_database,
    empty_redis_database,
    stop_processes,
)
from scripts.cluster_settings import ROOT, Endpoints, airflow_settings, broker_url
from scripts.live_airflow import AirflowApi
from scripts.local_airflow import AIRFLOW, free_port

DEFAULT_HOME = ROOT / ".cluster"
DEFAULT_DATABASE = "connectwise_airflow_cluster"
DEFAULT_REDIS_DB = 5
DEFAULT_PASSWORD = "airflow"  # noqa: S105 - compose's default login (airflow/airflow)
MARKER = "CW_AIRFLOW_CLUSTER"  # in every component's environment: which cluster, which part
SERVICES = {  # component -> airflow arguments, in start order (workers follow)
    "scheduler": ("scheduler",),
    "dag-processor": ("dag-processor",),
    "triggerer": ("triggerer",),
    "api-server": ("api-server",),
}


class ClusterError(RuntimeError):
    """The cluster could not start, or a call to it failed."""


class Cluster:
    """One local cluster, started by :meth:`start` or found again by :meth:`attach`."""

    def __init__(
        self,
        home: Path = DEFAULT_HOME,
        *,
        workers: int = 2,
        concurrency: int = 2,
        database: str = DEFAULT_DATABASE,
        redis_db: int = DEFAULT_REDIS_DB,
        api_port: int | None = None,
        username: str = "airflow",
        password: str = DEFAULT_PASSWORD,
        extra_env: Mapping[str, str] | None = None,
        settings_file: Path | None = ROOT / "airflow_settings.yaml",
        postgres_url: str = "postgresql://postgres@127.0.0.1:5432",
        redis_url: str = "redis://127.0.0.1:6379",
    ) -> None:
        if workers < 1 or concurrency < 1:
            raise ValueError("workers and concurrency must be at least 1")
        self.home = Path(home).resolve()
        self.workers, self.username, self.password = workers, username, password
        self.extra_env = dict(extra_env or {})
        self.settings_file = settings_file
        self.cluster_id = secrets.token_hex(8)
        self.endpoints = Endpoints(
            home=self.home,
            postgres_url=postgres_url,
            database=database,
            redis_url=redis_url,
            redis_db=redis_db,
            api_host="127.0.0.1",
            api_port=api_port or 0,
            scheduler_health_port=0,
            trigger_log_port=0,
            worker_log_ports=(0,) * workers,
            concurrency=concurrency,
        )
        self.recorded: dict[str, Recorded] = {}
        self.timings: dict[str, float] = {}  # seconds per start() phase, and in total
        self._children: list[subprocess.Popen[bytes]] = []
        self._api: AirflowApi | None = None

    # --- folders, state, environment ---------------------------------------------------------

    @property
    def airflow_home(self) -> Path:
        """AIRFLOW_HOME of every component."""
        return self.home / "airflow"

    @property
    def base_url(self) -> str:
        """The api-server (UI, REST API, /connectwise), e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self.endpoints.api_host}:{self.endpoints.api_port}"

    @property
    def components(self) -> dict[str, tuple[str, ...]]:
        """Component name -> ``airflow`` arguments."""
        workers = {
            f"worker{n}": (
                "celery",
                "worker",
                "-H",
                f"worker{n}@%h",
                "-c",
                str(self.endpoints.concurrency),
            )
            for n in range(1, self.workers + 1)
        }
        return {**SERVICES, **workers}

    def log_path(self, component: str) -> Path:
        """Return the log file of ``component`` (or of ``migrate`` / ``settings``)."""
        return self.home / "logs" / f"{component}.log"

    @classmethod
    def attach(cls, home: Path = DEFAULT_HOME) -> Cluster:
        """Find the cluster whose ``cluster.json`` is in ``home`` (for status and stop).

        Raises:
            ClusterError: ``home`` holds no cluster.
        """
        state_file = Path(home).resolve() / "cluster.json"
        if not state_file.is_file():
            raise ClusterError(f"No cluster in {home} (no cluster.json): start one first.")
        state = json.loads(state_file.read_text(encoding="utf-8"))
        endpoints = {**state["endpoints"], "home": Path(state["endpoints"]["home"])}
        endpoints["worker_log_ports"] = tuple(endpoints["worker_log_ports"])
        cluster = cls(home, workers=state["workers"], username=state["username"])
        cluster.endpoints, cluster.cluster_id = Endpoints(**endpoints), state["id"]
        cluster.recorded = {name: Recorded(**entry) for name, entry in state["recorded"].items()}
        passwords = cluster.airflow_home / "simple_auth_manager_passwords.json"
        if passwords.is_file():
            cluster.password = json.loads(passwords.read_text())[cluster.username]
        return cluster

    def _save_state(self) -> None:
        endpoints = {**asdict(self.endpoints), "home": str(self.home)}
        state = {
            "id": self.cluster_id,
            "workers": self.workers,
            "username": self.username,
            "endpoints": endpoints,
            "recorded": {name: asdict(entry) for name, entry in self.recorded.items()},
        }
        (self.home / "cluster.json").write_text(json.dumps(state, indent=2) + "\n")

    def environment(self, component: str = "cli") -> dict[str, str]:
        """Return ``component``'s environment: compose's settings for this host, then extra_env."""
        inherited = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AIRFLOW", "CONNECTWISE_", MARKER))
        }
        venv_bin = str(Path(sys.executable).parent)
        environment = {
            **inherited,
            "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
            **airflow_settings(self.endpoints, {"_AIRFLOW_WWW_USER_USERNAME": self.username}),
            **self.extra_env,
            MARKER: f"{self.cluster_id}:{component}",
        }
        if component.startswith("worker"):  # each worker serves its logs on a port of its own
            port = self.endpoints.worker_log_ports[int(component.removeprefix("worker")) - 1]
            environment["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(port)
        return environment

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self, timeout: float = 300.0, dag_ids: Iterable[str] = ()) -> Cluster:
        """Create the database, migrate, load the settings, start everything, wait until healthy.

        ``dag_ids``: also wait until these DAGs are parsed.

        Raises:
            ClusterError: this home's cluster is already running, a step failed, or the
                cluster was not healthy within ``timeout`` seconds (it is stopped again).
        """
        began, self.timings = time.monotonic(), {}
        if (self.home / "cluster.json").is_file() and any(
            Cluster.attach(self.home).alive().values()
        ):
            raise ClusterError(f"A cluster is already running from {self.home}: stop it first.")
        for folder in (self.home / "pids", self.home / "logs", self.airflow_home):
            folder.mkdir(parents=True, exist_ok=True)
        self.assign_ports()
        self.recorded = {}
        self._save_state()
        try:
            create_database(self.endpoints.postgres_url, self.endpoints.database)
        except psycopg.Error as exc:
            raise ClusterError(
                f"Cannot create database {self.endpoints.database!r} on "
                f"{self.endpoints.postgres_url}: {exc}"
            ) from exc
        self._write_passwords_file()
        try:
            self._run_step("migrate", [AIRFLOW, "db", "migrate"])
            if self.settings_file is not None:
                script = str(ROOT / "scripts" / "apply_settings.py")
                self._run_step(
                    "settings",
                    [sys.executable, script, str(self.settings_file), "--airflow", AIRFLOW],
                )
            spawned = time.monotonic()
            for name, arguments in self.components.items():
                self._spawn(name, arguments)
            self.wait_healthy(max(1.0, timeout - (spawned - began)), dag_ids)
        except BaseException:
            self.stop(timeout=10)
            raise
        self.timings["healthy"] = time.monotonic() - spawned
        self.timings["total"] = time.monotonic() - began
        return self

    def assign_ports(self) -> Endpoints:
        """Choose free loopback ports for every listener (the api-server's unless given)."""
        ports = {
            "api_port": self.endpoints.api_port or free_port(),
            "scheduler_health_port": free_port(),
            "trigger_log_port": free_port(),
            "worker_log_ports": tuple(free_port() for _ in range(self.workers)),
        }
        self.endpoints = Endpoints(**{**asdict(self.endpoints), **ports})
        return self.endpoints

    def _write_passwords_file(self) -> None:
        # As compose's api-server does: the login is the configured one, not a generated one.
        path = self.airflow_home / "simple_auth_manager_passwords.json"
        path.touch(mode=0o600)
        path.write_text(json.dumps({self.username: self.password}) + "\n")

    def _run_step(self, name: str, command: list[str]) -> None:
        began = time.monotonic()
        with self.log_path(name).open("wb") as log:
            result = subprocess.run(
                command,
                cwd=self.airflow_home,
                env=self.environment(name),
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if result.returncode != 0:
            raise ClusterError(f"{name} failed (exit {result.returncode}):\n{self.tail(name)}")
        self.timings[name] = time.monotonic() - began

    def _spawn(self, name: str, arguments: tuple[str, ...]) -> None:
        with self.log_path(name).open("ab") as log:
            process = subprocess.Popen(
                [AIRFLOW, *arguments],
                cwd=self.airflow_home,
                env=self.environment(name),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a session and process group of its own
            )
        self._children.append(process)
        self.recorded[name] = Recorded.of(process.pid)
        (self.home / "pids" / f"{name}.pid").write_text(f"{process.pid}\n")
        self._save_state()

    def alive(self) -> dict[str, bool]:
        """Map each recorded component to whether that very process still runs."""
        return {name: entry.is_alive() for name, entry in self.recorded.items()}

    def status(self) -> list[ComponentStatus]:
        """Return each component's pid, liveness and health."""
        alive = self.alive()
        processes = {name: (entry.pid, alive[name]) for name, entry in self.recorded.items()}
        return component_statuses(self.endpoints, processes)

    def wait_healthy(
        self, timeout: float = 180.0, dag_ids: Iterable[str] = ()
    ) -> list[ComponentStatus]:
        """Block until every component is alive and healthy and ``dag_ids`` are parsed.

        Returns:
            The components' statuses.

        Raises:
            ClusterError: a component died, or ``timeout`` passed (the message says what is
                still waiting).
        """
        deadline = time.monotonic() + timeout
        statuses = self.status()
        while not all(s.is_healthy for s in statuses):
            dead = [s.name for s in statuses if not s.is_alive]
            if dead:
                raise ClusterError(f"{', '.join(dead)} exited:\n{self.tail(dead[0])}")
            if time.monotonic() > deadline:
                waiting = [f"{s.name}: {s.health}" for s in statuses if not s.is_healthy]
                raise ClusterError(f"Not healthy after {timeout:.0f} s ({'; '.join(waiting)})")
            time.sleep(1)
            statuses = self.status()
        try:  # the dag-processor parses in the background: a DAG is there once the API has it
            self.api.wait_healthy((), dag_ids, timeout=max(1.0, deadline - time.monotonic()))
        except TimeoutError as exc:
            raise ClusterError(str(exc)) from None
        return statuses

    def stop(self, timeout: float = 30.0) -> list[int]:
        """SIGTERM the recorded process groups, wait, SIGKILL what is left; return those pids.

        Only this cluster's processes are touched: the recorded ones (pid and start time
        checked), their sessions and whatever carries this cluster's marker in its environment.
        """
        killed = stop_processes(self.cluster_id, MARKER, self.recorded, timeout)
        for child in self._children:
            child.wait(timeout=10)
        for pid_file in (self.home / "pids").glob("*.pid"):
            pid_file.unlink()
        return killed

    def drop_database(self) -> None:
        """Drop the metadata database and empty the broker's Redis database (after :meth:`stop`)."""
        drop_database(self.endpoints.postgres_url, self.endpoints.database)
        empty_redis_database(broker_url(self.endpoints))

    def tail(self, component: str, lines: int = 40) -> str:
        """Return the last ``lines`` of a component's log."""
        path = self.log_path(component)
        text = path.read_text(errors="replace") if path.is_file() else "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- using it -----------------------------------------------------------------------------

    @property
    def api(self) -> AirflowApi:
        """The REST API as the cluster's user (``trigger``, ``wait_for_run``, ``task_log``...)."""
        if self._api is None or self._api.base_url != self.base_url:
            self._api = AirflowApi(self.base_url, self.username, self.password)
        return self._api

    def airflow(
        self, *arguments: str, timeout: float | None = 300, capture: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run an ``airflow`` CLI command against the cluster; the exit code is not checked.

        ``capture``: return its output (else it goes to this process's stdout and stderr).
        """
        return subprocess.run(
            [AIRFLOW, *arguments],
            env=self.environment(),
            text=True,
            capture_output=capture,
            check=False,
            timeout=timeout,
            cwd=self.airflow_home,
        )
