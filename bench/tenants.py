"""Benchmark many tenants on the Celery cluster: 1, 4 and 8 tenants, 1 and 2 workers.

A tenants file lists 8 tenants, each with its own ConnectWise connection and PostgreSQL schema
in one staging database; the cluster of ``scripts/local_cluster.py`` starts once per worker
count with every tenant's DAGs (``scripts/apply_settings.py`` creates each tenant's pool).
For each tenant count the first N tenants' ``connectwise_initial_sync__<tenant>`` are triggered
together through the REST API into empty schemas; the wall time runs from the first trigger to
the last success. Rows are what landed in the N schemas (every staging table), rows/min their
sum over the wall time. Every tenant reads the same simulator (scale medium) as its own
tenant: one server answers all of them, where a real deployment has one ConnectWise per
tenant. The warm bare fetch of one tenant's pages (``bench/floor.py``) is timed before each
batch as the floor. Figures are printed and written to docs/benchmarks.md (section "Many
tenants on Celery").

    .venv/bin/python bench/tenants.py                                  # 1/4/8 x 1/2 workers
    .venv/bin/python bench/tenants.py --tenants 1 4 --workers 2 --repeats 2 --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]

import sqlalchemy as sa  # noqa: E402

from bench.cpu import MACHINE, CpuSample  # noqa: E402
from bench.floor import measure_floor  # noqa: E402
from bench.postgres import own_database  # noqa: E402
from bench.report import add_output_options, publish, spread  # noqa: E402
from scripts.live_airflow import AirflowApi, simulator_connection  # noqa: E402
from scripts.local_cluster import Cluster  # noqa: E402
from simulator.testing import SimulatorProcess  # noqa: E402

DAG = "connectwise_initial_sync"
DAG_FILES = sorted((ROOT / "dags").glob("connectwise_*.py"))
REDIS_DB = 12
SCALE = "medium"
CONCURRENCY = 4  # a task waits on HTTP and PostgreSQL about half its time


@dataclass
class Batch:
    """N tenants' initial syncs triggered together."""

    wall: float
    rows: int
    floor: float
    slowest_tenant: float  # the longest single run's own trigger → success
    cpu: dict[str, float]  # CPU-seconds by cluster component (bench/cpu.py), "machine" in all
    tasks: dict[str, list[float]]  # per task instance: "run" (start → end), "wait" (queued → start)

    @property
    def utilisation(self) -> float:
        """Share of the machine's cores busy over the wall time."""
        return self.cpu[MACHINE] / (self.wall * (os.cpu_count() or 1))


@dataclass
class Setup:
    """One tenant count on one cluster size, with its repeated batches."""

    tenants: int
    workers: int
    batches: list[Batch] = field(default_factory=list)
    parsing: float = 0.0  # the dag-processor's CPU-seconds a minute over the whole cluster's run

    @property
    def rows_per_minute(self) -> list[float]:
        """Rows landed per minute of wall time, per batch."""
        return [batch.rows / batch.wall * 60 for batch in self.batches]


def tenant_ids(count: int) -> list[str]:
    """``t01``, ``t02``, ...: the tenants of the file, in order."""
    return [f"t{number:02d}" for number in range(1, count + 1)]


def write_tenants_file(folder: Path, count: int, prefix: str) -> Path:
    """A tenants file of ``count`` tenants, each with its own connection and schema."""
    lines = ["tenants:"]
    for tenant in tenant_ids(count):
        lines += [
            f"  - id: {tenant}",
            f"    connectwise_conn_id: connectwise_{tenant}",
            f"    schema: {prefix}_{tenant}",
        ]
    path = folder / "tenants.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_batch(
    cluster: Cluster, sim: SimulatorProcess, tenants: list[str], staging: str, prefix: str
) -> Batch:
    """Empty the tenants' schemas, trigger their initial syncs together, wait for all."""
    engine = sa.create_engine(staging)
    with engine.begin() as connection:
        for tenant in tenants:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {prefix}_{tenant} CASCADE")
    floor = measure_floor(sim, 1, warm_up=False).median
    api = cluster.api
    roots = {entry.pid: name for name, entry in cluster.recorded.items()}
    roots.update({sim.process.pid: "simulator"} if sim.process else {})
    cpu = CpuSample.take(roots)
    started = time.monotonic()
    runs = {tenant: api.trigger(f"{DAG}__{tenant}") for tenant in tenants}
    finished: dict[str, float] = {}
    for tenant, run_id in runs.items():
        run = api.wait_for_run(f"{DAG}__{tenant}", run_id, timeout=1800)
        if run["state"] != "success":
            raise RuntimeError(f"{DAG}__{tenant} {run_id} ended {run['state']}")
        finished[tenant] = time.monotonic() - started
    wall = max(finished.values())
    spent = CpuSample.take(roots) - cpu
    rows = sum(_staged_rows(engine, f"{prefix}_{tenant}") for tenant in tenants)
    engine.dispose()
    return Batch(wall, rows, floor, _slowest(api, runs), spent, _task_times(api, runs))


def _staged_rows(engine: sa.Engine, schema: str) -> int:
    with engine.connect() as connection:
        tables = connection.execute(
            sa.text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = :schema "
                "AND table_name LIKE 'stg\\_%' AND table_type = 'BASE TABLE'"
            ),
            {"schema": schema},
        ).scalars()
        return sum(
            int(connection.exec_driver_sql(f"SELECT COUNT(*) FROM {schema}.{table}").scalar() or 0)
            for table in list(tables)
        )


def _task_times(api: AirflowApi, runs: dict[str, str]) -> dict[str, list[float]]:
    from scripts.live_airflow import seconds_between

    times: dict[str, list[float]] = {"run": [], "wait": [], "sched": []}
    for tenant, run_id in runs.items():
        listing = api.call("GET", f"dags/{DAG}__{tenant}/dagRuns/{run_id}/taskInstances")
        for ti in listing["task_instances"]:
            if ti.get("start_date") and ti.get("end_date"):
                times["run"].append(seconds_between(ti["start_date"], ti["end_date"]) or 0.0)
            if ti.get("queued_when") and ti.get("start_date"):
                times["wait"].append(seconds_between(ti["queued_when"], ti["start_date"]) or 0.0)
            if ti.get("scheduled_when") and ti.get("queued_when"):
                times["sched"].append(
                    seconds_between(ti["scheduled_when"], ti["queued_when"]) or 0.0
                )
    return times


def _slowest(api: AirflowApi, runs: dict[str, str]) -> float:
    from scripts.live_airflow import seconds_between

    durations = []
    for tenant, run_id in runs.items():
        run = api.call("GET", f"dags/{DAG}__{tenant}/dagRuns/{run_id}")
        durations.append(seconds_between(run["queued_at"], run["end_date"]) or 0.0)
    return max(durations)


def measure(
    workers: int, counts: list[int], repeats: int, sim: SimulatorProcess, concurrency: int
) -> list[Setup]:
    """Start a cluster of ``workers`` with the largest tenant count, run every count on it."""
    suffix = uuid.uuid4().hex[:8]
    prefix = f"cwt{suffix}"
    setups = [Setup(count, workers) for count in counts]
    with own_database("cw_bench_tenants") as staging:
        home = Path(tempfile.mkdtemp(prefix="cw-bench-tenants-"))
        everyone = tenant_ids(max(counts))
        connection = json.dumps(simulator_connection(sim))
        environment = {
            "CONNECTWISE_TENANTS_FILE": str(write_tenants_file(home, len(everyone), prefix)),
            "AIRFLOW_CONN_CONNECTWISE_STAGING": json.dumps(
                {"conn_type": "generic", "extra": {"sqlalchemy_url": staging}}
            ),
            **{f"AIRFLOW_CONN_CONNECTWISE_{tenant.upper()}": connection for tenant in everyone},
        }
        cluster = Cluster(
            home / "cluster",
            workers=workers,
            concurrency=concurrency,
            database=f"cw_bench_meta_{suffix}",
            redis_db=REDIS_DB,
            extra_env=environment,
        )
        try:
            cluster.start(timeout=600, dag_ids=[f"{DAG}__{tenant}" for tenant in everyone])
            # Untimed: a fresh api-server builds its execution API's routes on their first calls.
            run_batch(cluster, sim, everyone[:1], staging, prefix)
            roots = {entry.pid: name for name, entry in cluster.recorded.items()}
            began, before = time.monotonic(), CpuSample.take(roots)
            for setup in setups:
                for number in range(repeats):
                    tenants = everyone[: setup.tenants]
                    batch = run_batch(cluster, sim, tenants, staging, prefix)
                    setup.batches.append(batch)
                    print(
                        f"{workers} worker(s), {setup.tenants} tenant(s), run {number + 1}: "
                        f"{batch.wall:5.1f} s, {batch.rows:,} rows, floor {batch.floor:.2f} s, "
                        f"CPU {_cpu_text(batch)}; tasks {_tasks_text(batch)}",
                        flush=True,
                    )
            parsing = (CpuSample.take(roots) - before)["dag-processor"]
            for setup in setups:
                setup.parsing = parsing / (time.monotonic() - began) * 60
        finally:
            cluster.stop()
            cluster.drop_database()
            shutil.rmtree(home, ignore_errors=True)
    return setups


def _cpu_text(batch: Batch) -> str:
    parts = sorted(batch.cpu.items(), key=lambda item: -item[1])
    return f"{batch.utilisation:.0%} busy; " + ", ".join(f"{k} {v:.1f}" for k, v in parts)


def _tasks_text(batch: Batch) -> str:
    parts = [
        f"{name} median {_median(values):.2f} s, max {max(values):.1f} s"
        for name, values in batch.tasks.items()
        if values
    ]
    return f"{len(batch.tasks['run'])} ran; " + "; ".join(parts)


GROUPS = ("worker", "api-server", "postgres", "scheduler", "dag-processor")


def _by_group(batch: Batch) -> dict[str, float]:
    """CPU-seconds of the workers together, each other component, and everything else."""
    spent = {group: 0.0 for group in GROUPS}
    for name, seconds in batch.cpu.items():
        group = "worker" if name.startswith("worker") else name
        if group in spent:
            spent[group] += seconds
    spent["other"] = batch.cpu[MACHINE] - sum(spent.values())
    return spent


def render(setups: list[Setup], floor_requests: int, concurrency: int) -> str:
    """The section for docs/benchmarks.md."""
    lines = [
        f"The first N tenants' `{DAG}__<tenant>` triggered together through the REST API on "
        f"the Celery cluster (`scripts/local_cluster.py`: PostgreSQL metadata, Redis broker, "
        f"worker concurrency {concurrency}, `parallelism` = 2 × workers × concurrency), each into "
        f"its own empty PostgreSQL schema, scale {SCALE} (12,108 rows a tenant); median "
        "(min–max) of the repeats, after one untimed batch. Wall time: first trigger to last "
        "success. CPU: busy CPU-seconds of the whole machine over the batch (`bench/cpu.py`, "
        "from /proc), and the cores' average use. The floor is one tenant's warm bare fetch "
        f"({floor_requests} requests, `bench/floor.py`), timed before each batch.",
        "",
        "| workers | tenants | batches | wall time (s) | ÷ 1 tenant | slowest tenant's run (s) "
        "| rows/min | CPU-seconds | cores busy | floor (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    single = {s.workers: s for s in setups if s.tenants == 1 and s.batches}
    for setup in setups:
        walls = [batch.wall for batch in setup.batches]
        base = single.get(setup.workers)
        ratio = f"{_median(walls) / _median([b.wall for b in base.batches]):.2f}×" if base else "–"
        lines.append(
            f"| {setup.workers} | {setup.tenants} | {len(setup.batches)} | {spread(walls)} | "
            f"{ratio} | {spread([b.slowest_tenant for b in setup.batches])} | "
            f"{spread(setup.rows_per_minute, 0, grouped=True)} | "
            f"{spread([b.cpu[MACHINE] for b in setup.batches], 0)} | "
            f"{spread([b.utilisation * 100 for b in setup.batches], 0)} % | "
            f"{spread([b.floor for b in setup.batches], 2)} |"
        )
    lines += ["", *where_cpu_went(setups), "", *sizing(setups)]
    return "\n".join(lines)


def where_cpu_went(setups: list[Setup]) -> list[str]:
    """CPU-seconds per tenant by component, median over each setup's batches."""
    lines = [
        "Where the CPU went, per tenant (CPU-seconds of the median batch ÷ tenants; "
        "`other`: Redis, the simulator, the kernel):",
        "",
        "| workers | tenants | " + " | ".join(GROUPS) + " | other | total |",
        "|---|---|" + "---|" * (len(GROUPS) + 2),
    ]
    for setup in setups:
        if not setup.batches:
            continue
        median = sorted(setup.batches, key=lambda batch: batch.wall)[len(setup.batches) // 2]
        spent = _by_group(median)
        cells = [f"{seconds / setup.tenants:.1f}" for seconds in spent.values()]
        total = median.cpu[MACHINE] / setup.tenants
        lines.append(f"| {setup.workers} | {setup.tenants} | {' | '.join(cells)} | {total:.1f} |")
    return lines


def _cpu_bound(setups: list[Setup], cores: int) -> list[str]:
    """The paragraph on what limits it, from one tenant's and four tenants' batches."""
    singles = [s for s in setups if s.tenants == 1 and s.batches]
    if not singles:
        return []
    single = max(singles, key=lambda setup: setup.workers)  # the cluster of the 2x target
    configured = max(setup.tenants for setup in setups)  # every tenant's DAGs are parsed
    wall = _median([batch.wall for batch in single.batches])
    cpu = _median([batch.cpu[MACHINE] for batch in single.batches])
    floor = 4 * cpu / cores
    return [
        f"What limits it here is CPU: {cores} cores run the scheduler, dag-processor, "
        "api-server, every worker, PostgreSQL, Redis and the simulator that answers every "
        f"tenant. On {single.workers} worker(s), one tenant's initial sync costs {cpu:.0f} "
        f"CPU-seconds over its {wall:.1f} s ({cpu / (wall * cores):.0%} of the machine: the rest "
        "of the time it waits on its chain of dependent tasks), and N tenants cost N times "
        f"that, so 4 tenants need at least {floor:.0f} s of all {cores} cores, "
        f"{floor / wall:.1f}× one tenant's run, whatever the number of workers: a second worker "
        f"on the same cores adds task slots, not CPU. {_four_tenants(setups, single, floor)} "
        "Most of a tenant's CPU-seconds are Airflow's lifecycle of each of its task runs "
        "(Celery, the supervisor and the task process, the execution API calls the api-server "
        "serves, the metadata rows PostgreSQL writes), a few the sync itself. Between batches "
        f"the dag-processor keeps parsing its {len(DAG_FILES)} DAG files, each building every "
        "tenant's DAG (each file every `[dag_processor] min_file_process_interval`, 30 s): with "
        f"{configured} tenants it used {single.parsing:.1f} CPU-seconds a minute, "
        f"{single.parsing / configured:.2f} a tenant.",
        "",
    ]


def _four_tenants(setups: list[Setup], single: Setup, floor: float) -> str:
    """What the 4-tenant batches took against that bound, on the same cluster."""
    four = next((s for s in setups if s.tenants == 4 and s.workers == single.workers), None)
    if four is None or not four.batches:
        return ""
    wall = _median([batch.wall for batch in four.batches])
    busy = _median([batch.utilisation for batch in four.batches])
    if floor >= 2 * _median([batch.wall for batch in single.batches]):
        return (
            f"They took {wall:.1f} s with the cores {busy:.0%} busy: 4 tenants within 2× of one "
            "needs workers with cores of their own."
        )
    return (
        f"They took {wall:.1f} s with the cores {busy:.0%} busy: the rest is the tenants' tasks "
        "waiting for each other's slots and for the scheduler's loop, not CPU."
    )


def _median(values: list[float]) -> float:
    import statistics

    return statistics.median(values)


def sizing(setups: list[Setup]) -> list[str]:
    """What limits the figures, and how to size 100 and 1,000 tenants (computed, not measured)."""
    from connectwise.dag_graph import sync_units

    tasks = len(sync_units()) + 2  # connectwise_incremental_sync: its syncs, deletes, counts
    per_hour = {count: count * tasks * 4 for count in (100, 1000)}  # every 15 minutes
    cores = os.cpu_count() or 1
    return [
        *_cpu_bound(setups, cores),
        "On a real deployment each tenant reads its own ConnectWise, whose request budget "
        "(~1,000 requests a minute, the connection's `requests_per_minute`) and page latency "
        "(0.5–2 s) bound that tenant alone: its pool (`pool_slots`) keeps its tasks within it, "
        "and tenants add up until the workers' CPU is used.",
        "",
        "Sizing: a medium tenant's initial sync costs a few CPU-seconds of pipeline work plus "
        f"Airflow's per-task overhead ({tasks} tasks an incremental run); an incremental run with "
        "few changes is mostly that overhead. For 100 tenants on a 15-minute interval "
        f"({per_hour[100]:,} task runs an hour): 3–4 workers of 4 cores (concurrency 8), "
        "`parallelism` ≥ 32, a scheduler with 2 cores, PostgreSQL for the metadata database "
        "with a connection pooler (PgBouncer), the staging schemas on their own PostgreSQL, and "
        "the dag-processor's `min_file_process_interval` raised to 300 s or more (it parses "
        "every tenant's DAGs each time; a tenant's new interval then applies within it). "
        "For 1,000 tenants "
        f"({per_hour[1000]:,} task runs an hour): 20–30 workers, two or more schedulers "
        "(Airflow runs them active-active), `[scheduler] max_dagruns_to_create_per_loop` "
        "raised, 1-hour intervals for quiet tenants, "
        "tenants spread over Celery queues (`queue:` in the tenants file) so a region's workers "
        "serve its tenants, and the metadata database sized for "
        f"{per_hour[1000] / 3600:.0f} task runs a second, each several row updates (a dedicated "
        "PostgreSQL with 4+ cores). Callbacks keep the incremental runs rare: each delivery is "
        "applied by the tenant's callbacks DAG within seconds.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="task slots a worker")
    add_output_options(parser)
    args = parser.parse_args()

    setups: list[Setup] = []
    with SimulatorProcess(scale=SCALE, seed=7, quiet=True) as sim:
        warm = measure_floor(sim, 1)
        print(f"{SCALE}: warm bare fetch {warm.median:.2f} s, {warm.requests} requests", flush=True)
        for workers in args.workers:
            setups += measure(workers, sorted(args.tenants), args.repeats, sim, args.concurrency)
    publish(args, "Many tenants on Celery", render(setups, warm.requests, args.concurrency))


if __name__ == "__main__":
    main()
