"""A production-shaped Airflow from the venv, without Docker: what docker-compose.yaml runs.

CeleryExecutor with the Redis broker on 127.0.0.1:6379 (a database index of its own), the
metadata and Celery's result backend in a PostgreSQL database of its own on 127.0.0.1:5432
(created if missing), ``airflow db migrate``, airflow_settings.yaml loaded like airflow-init
does (scripts/apply_settings.py), then scheduler, dag-processor, triggerer, api-server (with the
callback receiver at /connectwise) and N ``airflow celery worker -H workerN@%h``. The settings
come from docker-compose.yaml's ``x-airflow-common`` (scripts/cluster_settings.py).

Usage::

    python scripts/cluster.py start  [--home .cluster] [--workers 2] [--concurrency 2]
                                     [--database connectwise_airflow_cluster] [--redis-db 5]
                                     [--api-port PORT] [--env KEY=VALUE ...]
                                     [--settings-file airflow_settings.yaml | --no-settings]
                                     [--username airflow] [--password airflow] [--timeout 300]
    python scripts/cluster.py status [--home .cluster] [--json]
    python scripts/cluster.py stop   [--home .cluster] [--timeout 30] [--drop-database]
    python scripts/cluster.py airflow [--home .cluster] ARGS...   # e.g. dags list

``start`` returns once every component is healthy and prints the UI address (login
airflow/airflow unless ``--username``/``--password``); the api-server port is a free one unless
``--api-port``. ``AIRFLOW_CONN_*`` and ``AIRFLOW_VAR_*`` of the calling shell and every
``--env`` reach every component (they win over the connections of airflow_settings.yaml, whose
hosts are the compose ones); nothing else Airflow-related is inherited. The home folder holds
``cluster.json`` (ports, ids), ``pids/*.pid``, ``logs/*.log`` and the Airflow home
``airflow/``. ``status`` prints each component, its pid, whether it is alive and its health
(exit 1 unless all are healthy). ``stop`` SIGTERMs the process groups it recorded, waits
``--timeout`` seconds, then SIGKILLs whatever of the cluster is left, task processes included.
``airflow`` runs an Airflow CLI command with the cluster's environment (``dags trigger ID``).

From Python (tests, benchmarks)::

    from scripts.cluster import Cluster

    with Cluster(tmp_path / "cluster", database="t_abc", redis_db=9,
                 extra_env={"AIRFLOW_CONN_CONNECTWISE_DEFAULT": ...}) as cluster:
        run_id = cluster.api.trigger("connectwise_preflight")
        assert cluster.api.wait_for_run("connectwise_preflight", run_id)["state"] == "success"
    cluster.drop_database()

``Cluster`` (scripts/local_cluster.py) also has ``start(timeout, dag_ids)``,
``wait_healthy(timeout, dag_ids)``, ``status()``, ``stop(timeout)``, ``airflow(*args)``,
``environment(component)``, ``tail(component)``, ``base_url`` and ``Cluster.attach(home)``;
``cluster.api`` is scripts/live_airflow.py's ``AirflowApi`` as the cluster's user.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as `python scripts/cluster.py`
from scripts.cluster_health import ComponentStatus
from scripts.cluster_settings import ROOT
from scripts.local_cluster import (
    DEFAULT_DATABASE,
    DEFAULT_HOME,
    DEFAULT_PASSWORD,
    DEFAULT_REDIS_DB,
    Cluster,
    ClusterError,
)

__all__ = ["Cluster", "ClusterError", "ComponentStatus", "main", "parse_args"]


# --- command line -----------------------------------------------------------------------------


def _key_value(text: str) -> tuple[str, str]:
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="cluster.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start a cluster and wait until it is healthy")
    status = commands.add_parser("status", help="show each component's pid, liveness, health")
    stop = commands.add_parser("stop", help="stop every process the cluster started")
    run = commands.add_parser("airflow", help="run an airflow CLI command against the cluster")
    for sub in (start, status, stop, run):
        sub.add_argument("--home", type=Path, default=DEFAULT_HOME, help="default: .cluster")
    start.add_argument("--workers", type=_positive, default=2)
    start.add_argument("--concurrency", type=_positive, default=2, help="task slots per worker")
    start.add_argument("--database", default=DEFAULT_DATABASE, help="metadata database")
    start.add_argument(
        "--redis-db",
        type=int,
        choices=range(16),
        default=DEFAULT_REDIS_DB,
        metavar="0-15",
        help=f"Redis database index (default {DEFAULT_REDIS_DB})",
    )
    start.add_argument("--api-port", type=int, default=None, help="default: a free port")
    start.add_argument("--username", default="airflow")
    start.add_argument("--password", default=DEFAULT_PASSWORD)
    start.add_argument(
        "--env",
        type=_key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for every component",
    )
    settings = start.add_mutually_exclusive_group()
    settings.add_argument("--settings-file", type=Path, default=ROOT / "airflow_settings.yaml")
    settings.add_argument("--no-settings", action="store_true", help="load no settings file")
    start.add_argument("--timeout", type=float, default=300.0)
    status.add_argument("--json", action="store_true", help="print JSON")
    stop.add_argument("--timeout", type=float, default=30.0, help="seconds before SIGKILL")
    stop.add_argument(
        "--drop-database", action="store_true", help="then drop the database, empty the Redis db"
    )
    run.add_argument("arguments", nargs=argparse.REMAINDER, help="e.g. dags list")
    return parser.parse_args(argv)


def shell_overrides() -> dict[str, str]:
    """Return the calling shell's ``AIRFLOW_CONN_*`` and ``AIRFLOW_VAR_*`` variables."""
    prefixes = ("AIRFLOW_CONN_", "AIRFLOW_VAR_")
    return {key: value for key, value in os.environ.items() if key.startswith(prefixes)}


def cluster_from_args(args: argparse.Namespace) -> Cluster:
    """Build the :class:`Cluster` that ``start``'s arguments describe."""
    return Cluster(
        args.home,
        workers=args.workers,
        concurrency=args.concurrency,
        database=args.database,
        redis_db=args.redis_db,
        api_port=args.api_port,
        username=args.username,
        password=args.password,
        extra_env={**shell_overrides(), **dict(args.env)},
        settings_file=None if args.no_settings else args.settings_file,
    )


def print_status(statuses: list[ComponentStatus], as_json: bool) -> None:
    """Print the statuses as a table or as JSON."""
    if as_json:
        print(json.dumps([asdict(s) for s in statuses], indent=2))
        return
    print(f"{'component':<14} {'pid':>8}  {'alive':<5}  health")
    for s in statuses:
        print(f"{s.name:<14} {s.pid or '-':>8}  {'yes' if s.is_alive else 'no':<5}  {s.health}")


def main(argv: list[str] | None = None) -> int:
    """Run the command; return the exit code."""
    args = parse_args(argv)
    try:
        if args.command == "start":
            cluster = cluster_from_args(args).start(timeout=args.timeout)
            phases = ", ".join(
                f"{name} {seconds:.0f} s" for name, seconds in cluster.timings.items()
            )
            print(f"Healthy: {cluster.base_url} (login {cluster.username}) [{phases}]")
            print(f"Logs: {cluster.home / 'logs'}")
            print_status(cluster.status(), as_json=False)
            return 0
        cluster = Cluster.attach(args.home)
        if args.command == "airflow":
            cluster.extra_env = shell_overrides()
            return cluster.airflow(*args.arguments, capture=False).returncode
        if args.command == "status":
            statuses = cluster.status()
            print_status(statuses, args.json)
            return 0 if statuses and all(s.is_healthy for s in statuses) else 1
        killed = cluster.stop(timeout=args.timeout)
        print(f"Stopped{f' (SIGKILLed {killed})' if killed else ''}.")
        if args.drop_database:
            cluster.drop_database()
            endpoints = cluster.endpoints
            print(f"Dropped database {endpoints.database}, emptied Redis db {endpoints.redis_db}.")
        return 0
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
