"""Benchmark the initial sync through Airflow against a warm bare fetch, and its own memory.

Per scale: start the simulator, warm it with one pass of the bare fetch (``bench/floor.py``),
then per staging database (SQLite; PostgreSQL in a database of its own on 127.0.0.1:5432,
created and dropped per run) ``--repeats`` times: one timed floor pass, then
``airflow dags test connectwise_initial_sync`` in a fresh Airflow home (``airflow db migrate``,
untimed) into fresh staging. Measured: the whole ``dags test`` run, the time inside the sync
tasks (run history), the DAG run's requests (the simulator's counters) beside the floor's and
the preflight's, and the peak RSS of the ``dags test`` process (``wait4``). Then the
pipeline's own memory in-process (``bench/pipeline_memory.py``: tracemalloc peak per entity,
and RSS growth after imports in a second run). Prints the targets with an honest verdict and
writes docs/benchmarks.md (section "Initial sync").

``--additions`` measures the optional agreement additions instead (mapping with the section
enabled, SQLite only; section "Optional: agreement additions").

    .venv/bin/python bench/initial_sync.py                        # small, medium, large
    .venv/bin/python bench/initial_sync.py --scales small --repeats 1 --output /tmp/b.md
    .venv/bin/python bench/initial_sync.py --additions --scales medium
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]

import sqlalchemy as sa  # noqa: E402

from bench.floor import Floor, entities_read, measure_floor  # noqa: E402
from bench.initial_sync_report import DagRun, ScaleResult, render, render_additions  # noqa: E402
from bench.postgres import fresh_staging  # noqa: E402
from bench.report import add_output_options, publish  # noqa: E402
from scripts.demo import sync_figures  # noqa: E402
from scripts.live_airflow import simulator_connection  # noqa: E402
from scripts.local_airflow import AIRFLOW, airflow_environment  # noqa: E402
from simulator.testing import SimulatorProcess  # noqa: E402

DAG = "connectwise_initial_sync"
ADDITIONS = "agreement_additions"
SEED = 1  # the demo's data, so the README's figures and these describe the same tenant


def dag_environment(sim: SimulatorProcess, home: Path, staging_url: str) -> dict[str, str]:
    """A fresh Airflow home with the simulator and the staging database as connections."""
    return airflow_environment(
        home,
        AIRFLOW_CONN_CONNECTWISE_DEFAULT=json.dumps(simulator_connection(sim)),
        AIRFLOW_CONN_CONNECTWISE_STAGING=json.dumps(
            {"conn_type": "generic", "extra": {"sqlalchemy_url": staging_url}}
        ),
    )


def run_dag(sim: SimulatorProcess, staging_url: str, workdir: Path) -> tuple[float, float, int]:
    """``airflow dags test`` in a fresh home; return wall seconds, peak RSS MB and requests."""
    home = workdir / "airflow"
    home.mkdir(parents=True)
    env = dag_environment(sim, home, staging_url)
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True)
    log_path = workdir / "dags-test.log"
    sim.reset_stats()
    with log_path.open("wb") as log:
        started = time.monotonic()
        process = subprocess.Popen(
            [AIRFLOW, "dags", "test", DAG], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    requests = int(sim.stats()["requests_total"])
    if process.returncode != 0:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-40:])
        raise RuntimeError(f"airflow dags test failed with {process.returncode}:\n{tail}")
    return wall, usage.ru_maxrss / 1024, requests


def additions_task(staging_url: str) -> dict[str, float]:
    """The additions task's own row of the run history (seconds, requests, records)."""
    engine = sa.create_engine(staging_url)
    with engine.connect() as connection:
        row = connection.execute(
            sa.text(
                "SELECT duration_seconds, http_requests, fetched FROM meta_sync_runs "
                "WHERE entity = :entity"
            ),
            {"entity": ADDITIONS},
        ).one_or_none()
    engine.dispose()
    if row is None:
        return {}
    return {"seconds": float(row[0]), "requests": float(row[1]), "records": float(row[2])}


def measure_run(sim: SimulatorProcess, kind: str, optional: tuple[str, ...]) -> DagRun:
    """One floor pass, then one DAG run into fresh staging of ``kind``."""
    floor = measure_floor(sim, 1, optional=optional, warm_up=False)
    workdir = Path(tempfile.mkdtemp(prefix="cw-bench-sync-"))
    try:
        with fresh_staging(kind, workdir, "cw_bench_sync") as staging_url:
            wall, rss, requests = run_dag(sim, staging_url, workdir)
            engine = sa.create_engine(staging_url)
            figures = sync_figures(engine)
            engine.dispose()
            extra = additions_task(staging_url) if optional else {}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if figures.statuses != {"success"}:
        raise RuntimeError(f"sync runs ended with {sorted(figures.statuses)}")
    return DagRun(wall, figures, requests, rss, floor.median, extra)


def probe_memory(
    sim: SimulatorProcess,
    traced: bool,
    *,
    extra: dict[str, Any] | None = None,
    mapping_file: Path | None = None,
) -> dict[str, Any]:
    """Run ``bench/pipeline_memory.py`` in a process of its own; return its document.

    ``extra`` is added to the connection's extra; ``mapping_file`` replaces the shipped mapping.
    """
    workdir = Path(tempfile.mkdtemp(prefix="cw-bench-memory-"))
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(workdir / "airflow"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        CONNECTWISE_INCLUDE_DIR=str(ROOT / "include"),
        AIRFLOW_CONN_CONNECTWISE_DEFAULT=json.dumps(simulator_connection(sim, **(extra or {}))),
    )
    if mapping_file is not None:
        env["CONNECTWISE_MAPPING_FILE"] = str(mapping_file)
    command = [
        sys.executable,
        str(ROOT / "bench" / "pipeline_memory.py"),
        "--simulator",
        sim.base_url,
        "--staging-url",
        f"sqlite:///{workdir / 'staging.db'}",
        *(["--tracemalloc"] if traced else []),
    ]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError(f"pipeline_memory.py failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_scale(
    scale: str, stagings: list[str], repeats: int, optional: tuple[str, ...], memory: bool
) -> ScaleResult:
    """Warm the simulator, then the DAG runs per staging, then the memory probes."""
    result = ScaleResult(scale, len(entities_read(optional)))
    with SimulatorProcess(scale=scale, seed=SEED, quiet=True) as sim:
        warm = measure_floor(sim, 1, optional=optional)  # the warm-up pass, then one timed
        print(f"{scale}: simulator warm; floor {warm.median:.2f} s", flush=True)
        floors: list[float] = []
        for kind in stagings:
            runs = result.runs.setdefault(kind, [])
            for number in range(repeats):
                run = measure_run(sim, kind, optional)
                runs.append(run)
                floors.append(run.floor_seconds)
                print(
                    f"{scale} {kind} run {number + 1}: {run.wall:.1f} s whole run, "
                    f"{run.figures.task_seconds:.1f} s in sync tasks, floor "
                    f"{run.floor_seconds:.2f} s ({run.task_ratio:.1f}×), {run.requests} "
                    f"requests, RSS {run.rss_mb:.0f} MB",
                    flush=True,
                )
        result.floor = Floor(tuple(floors), warm.requests, warm.records)
        if memory:
            result.memory = {"rss": probe_memory(sim, False), "traced": probe_memory(sim, True)}
            traced = result.memory["traced"]
            print(
                f"{scale} pipeline: tracemalloc peak {traced['peak_mb']:.1f} MB, RSS growth "
                f"{result.memory['rss']['rss_growth_mb']:.1f} MB, preflight "
                f"{traced['preflight_requests']} requests",
                flush=True,
            )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["small", "medium", "large"])
    parser.add_argument(
        "--stagings", nargs="+", choices=("sqlite", "postgres"), default=["sqlite", "postgres"]
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--additions", action="store_true", help="the optional agreement additions section"
    )
    add_output_options(parser)
    args = parser.parse_args()
    if args.additions:
        publish(args, "Optional: agreement additions", run_additions(args))
        return
    results = [
        measure_scale(scale, args.stagings, args.repeats, (), memory=True) for scale in args.scales
    ]
    publish(args, "Initial sync", render(results, args.repeats))


def run_additions(args: argparse.Namespace) -> str:
    """The initial sync with the additions enabled in the mapping (SQLite staging)."""
    from tests.support import mapping_with_additions

    folder = Path(tempfile.mkdtemp(prefix="cw-bench-additions-"))
    os.environ["CONNECTWISE_MAPPING_FILE"] = mapping_with_additions(folder)
    try:
        results = [
            measure_scale(scale, ["sqlite"], args.repeats, (ADDITIONS,), memory=False)
            for scale in args.scales
        ]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return render_additions(results, args.repeats)


if __name__ == "__main__":
    main()
