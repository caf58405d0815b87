"""Quick-start demo: simulator + SQLite staging + Airflow, a real initial sync, a summary.

Starts the ConnectWise simulator, sets up an Airflow home in .demo/ (SQLite metadata, no
examples), loads the project's airflow_settings.yaml — pointed at the simulator and at
.demo/staging.db — with scripts/apply_settings.py, runs `airflow dags test
connectwise_initial_sync`, and prints what landed. DEMO_SCALE=small|medium|large picks the
data size (default medium).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]

from scripts.local_airflow import AIRFLOW, airflow_environment  # noqa: E402

SHOWN = re.compile(r"\[connectwise\.(engine|jobs)\]|end task task_id=|Dag run .* state")
NOISE = re.compile(r"^\S+Z \[\w+\s*\] | \[[\w.]+\] loc=\S+$|\s+loc=\S+$")
SUMMARY_HEADER = "==> What landed in staging (.demo/staging.db)"


def main() -> int:
    """Run the demo; return the exit code."""
    scale = os.environ.get("DEMO_SCALE", "medium")
    demo = ROOT / ".demo"
    shutil.rmtree(demo, ignore_errors=True)
    home = demo / "airflow"
    home.mkdir(parents=True)
    staging = demo / "staging.db"
    from simulator.testing import SimulatorProcess

    step(f"Starting the ConnectWise simulator (scale {scale})")
    with SimulatorProcess(scale=scale, seed=1) as sim:
        env = airflow_environment(home)
        airflow = AIRFLOW
        step("Setting up Airflow in .demo/airflow (SQLite metadata, no examples)")
        subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
        step("Loading connections, pool and variable (scripts/apply_settings.py)")
        settings = write_settings(demo / "airflow_settings.yaml", sim, staging)
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "apply_settings.py"), str(settings)],
            env=env,
            check=True,
        )
        step("Running connectwise_initial_sync through Airflow (airflow dags test)")
        started = time.monotonic()
        code = stream([airflow, "dags", "test", "connectwise_initial_sync"], env)
        elapsed = time.monotonic() - started
        requests = sim.stats()["requests_total"]
    if code != 0:
        print(f"\nThe DAG run failed (exit code {code}); see the lines above.")
        return code
    print_summary(staging, elapsed, requests)
    return 0


def write_settings(path: Path, sim: object, staging: Path) -> Path:
    """Write the demo's airflow_settings.yaml: the shipped one, pointed at this simulator."""
    import yaml

    settings = yaml.safe_load((ROOT / "airflow_settings.yaml").read_text())
    for connection in settings["airflow"]["connections"]:
        if connection["conn_id"] == "connectwise_default":
            connection.update(
                conn_host=sim.host,
                conn_login=sim.public_key,
                conn_password=sim.private_key,
                conn_extra={
                    "company_id": sim.company_id,
                    "client_id": sim.client_id,
                    "scheme": "http",
                },
            )
        if connection["conn_id"] == "connectwise_staging":
            connection["conn_extra"] = {"sqlalchemy_url": f"sqlite:///{staging}"}
    path.write_text(yaml.safe_dump(settings, sort_keys=False))
    return path


def stream(command: list[str], env: dict[str, str]) -> int:
    """Run ``command``, showing only the task and progress lines; return its exit code."""
    lines: list[str] = []
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if SHOWN.search(line):
                print("  " + NOISE.sub("", line.rstrip()))
    if process.returncode != 0:
        print("".join(lines[-40:]))
    return process.returncode


@dataclass(frozen=True)
class SyncFigures:
    """What the initial sync's run-history rows (``meta_sync_runs``) add up to."""

    records: int  # SUM(fetched)
    task_seconds: float  # SUM(duration_seconds): each sync task's own time, added up
    rows: int
    statuses: frozenset[str]


def sync_figures(engine: sa.Engine) -> SyncFigures:
    """Sum the run history of the sync tasks: records fetched and seconds inside the tasks."""
    with engine.connect() as connection:
        records, seconds, rows = connection.execute(
            sa.text("SELECT SUM(fetched), SUM(duration_seconds), COUNT(*) FROM meta_sync_runs")
        ).one()
        statuses = connection.execute(sa.text("SELECT DISTINCT status FROM meta_sync_runs"))
        found = frozenset(str(row[0]) for row in statuses)
    return SyncFigures(int(records or 0), float(seconds or 0.0), int(rows), found)


def figures_line(figures: SyncFigures, requests: int, elapsed: float) -> str:
    """Return the demo's closing line (the README quotes it)."""
    return (
        f"{figures.records} records fetched with {requests} HTTP requests; "
        f"{figures.task_seconds:.1f} s inside the sync tasks, {elapsed:.1f} s for the whole "
        "Airflow run."
    )


def summary_text(staging: Path, elapsed: float, requests: int) -> str:
    """Return what landed per table, then the figures line (the README quotes both)."""
    from connectwise.staging.database import create_staging_engine
    from connectwise.staging.reports import entity_summary, format_summary

    engine = create_staging_engine(f"sqlite:///{staging}")
    table = format_summary(entity_summary(engine))
    line = figures_line(sync_figures(engine), requests, elapsed)
    engine.dispose()
    return f"{SUMMARY_HEADER}\n{table}\n\n{line}"


def print_summary(staging: Path, elapsed: float, requests: int) -> None:
    """Print per-entity figures from the run history and the staging tables."""
    print("\n" + summary_text(staging, elapsed, requests), flush=True)
    print(
        "Explore: sqlite3 .demo/staging.db 'SELECT * FROM meta_sync_runs' "
        "(run history), stg_<entity> tables, meta_quarantine."
    )


def step(message: str) -> None:
    """Print a step header."""
    print(f"\n==> {message}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
