"""Benchmark callback latency: a change in ConnectWise → its row updated in staging.

Everything runs as it would deployed, on this machine: the simulator (a subprocess) delivers
signed callbacks over HTTP to the receiver mounted in the api-server of an isolated
``airflow standalone`` (api-server, scheduler, dag-processor, triggerer; LocalExecutor, SQLite
metadata). The receiver commits each delivery to ``meta_callback_inbox`` and registers an
asset event, which starts ``connectwise_callbacks``; its task drains the inbox into staging and
then lingers (polls on) for ``linger_seconds``.

Steps: the initial sync runs through Airflow (``connectwise_initial_sync``, whose last task
installs the callbacks); ``connectwise_callbacks`` is unpaused with ``linger_seconds`` set to
``--linger`` (an Airflow cluster policy in the run's Airflow home: the DAG's default is 120 s,
too long to space many cold samples); ``--cold-samples`` contacts are changed one at a time,
each once no callback run is active and more than the linger after the previous change
(cold: each pays a DAG-run and task start); then one primer change starts a run and
``--changes`` records (contacts, companies, catalog items, opportunities; each once) are
PATCHed ``--spacing`` seconds apart while it lingers (warm). A poller reads staging every
50 ms; latency = first time the row shows its marker − ``time.time()`` just before the PATCH.
Prints p50/p95 (and min/mean/max) for warm and cold and writes docs/benchmarks.md (section
"Callback latency").

    .venv/bin/python bench/callback_latency.py [--changes 100] [--spacing 0.25]
        [--cold-samples 20] [--linger 5] [--staging sqlite|postgres] [--output PATH]

Every process it starts is stopped on exit, also on failure or Ctrl-C: the simulator and
Airflow run in sessions of their own, and everything in those sessions (Airflow moves task
processes into process groups of their own, not out of the session) or carrying this run's
environment marker gets SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]

from bench.callback_latency_report import linger_gaps, report_text  # noqa: E402
from bench.callback_observe import (  # noqa: E402
    CALLBACK_DAG,
    Change,
    ConnectWiseApi,
    Poller,
    cold_breakdown,
    measure,
    pick_records,
    read_inbox,
)
from bench.postgres import own_database  # noqa: E402
from bench.report import add_output_options, publish  # noqa: E402
from scripts.janitor import Janitor  # noqa: E402
from scripts.live_airflow import AirflowApi, Standalone, simulator_connection  # noqa: E402
from simulator.testing import SimulatorProcess, free_port  # noqa: E402

RUN_MARKER = "CW_BENCH_CALLBACK_RUN"
SECTION = "Callback latency"
INITIAL_DAG = "connectwise_initial_sync"
PART = "bench"  # one part: everything this run starts
# Written into the run's Airflow home: Airflow imports it in every component and task process.
LINGER_POLICY = '''"""Written by bench/callback_latency.py: the callback DAG lingers {linger} s."""

from airflow.sdk import Param

LINGER_SECONDS = {linger}


def dag_policy(dag):
    """Set the callback DAG's linger_seconds default (tasks hold a copy of the DAG's params)."""
    if dag.dag_id != "connectwise_callbacks":
        return
    for params in (dag.params, *(task.params for task in dag.tasks)):
        if "linger_seconds" in params:
            old = params.get_param("linger_seconds")
            params["linger_seconds"] = Param(
                LINGER_SECONDS, old.description, schema=old.schema, source=old.source
            )
'''


# --- processes and Airflow -------------------------------------------------------------------


def stop_everything(janitor: Janitor) -> None:
    """Stop every process this run started; say which needed SIGKILL or survived."""
    stubborn = janitor.stop(PART)
    if stubborn:
        print(f"SIGKILL for {len(stubborn)} process(es) still running: {stubborn}", flush=True)
    left = janitor.pids(PART)
    if left:
        print(f"WARNING: processes survived the clean-up: {left}", file=sys.stderr)


def write_linger_policy(home: Path, linger: int) -> None:
    """Put the cluster policy that sets ``linger_seconds`` where Airflow imports it from."""
    config = home / "config"  # on sys.path of every Airflow process of this home
    config.mkdir(parents=True, exist_ok=True)
    (config / "airflow_local_settings.py").write_text(LINGER_POLICY.format(linger=linger))


def run_initial_sync(api: AirflowApi, timeout: float) -> float:
    """Trigger the initial sync (which installs the callbacks); return its seconds."""
    started = time.monotonic()
    run_id = api.trigger(INITIAL_DAG)
    run = api.wait_for_run(INITIAL_DAG, run_id, timeout=timeout)
    if run["state"] != "success":
        failed = [
            (ti["task_id"], ti["state"])
            for ti in api.task_instances(INITIAL_DAG, run_id)
            if ti["state"] not in ("success", "skipped")
        ]
        raise RuntimeError(f"{INITIAL_DAG} failed: {failed}")
    return time.monotonic() - started


def callback_runs_active(airflow: AirflowApi) -> list[dict[str, Any]]:
    """Runs of the callback DAG that are queued or running."""
    return [r for r in airflow.runs(CALLBACK_DAG) if r["state"] in ("queued", "running")]


def wait_idle(airflow: AirflowApi, timeout: float) -> None:
    """Wait until no run of the callback DAG is queued or running (a lingering task ends)."""
    deadline = time.monotonic() + timeout
    while callback_runs_active(airflow):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{CALLBACK_DAG} still running after {timeout:.0f} s")
        time.sleep(0.5)


def check_callbacks_installed(sim: SimulatorProcess, api_port: int) -> int:
    """The initial sync's callback entries point at our receiver; return how many."""
    entries = [
        e
        for e in sim.truth("system/callbacks")
        if str(e.get("description", "")).startswith("connectwise-etl ")
    ]
    if not entries or not all(f":{api_port}/connectwise/" in e["url"] for e in entries):
        raise RuntimeError(f"callbacks not installed as expected: {entries}")
    return len(entries)


# --- the measurement -----------------------------------------------------------------------------


def staging_url(kind: str, workdir: Path, stack: ExitStack) -> str:
    """SQLite in the work folder, or a PostgreSQL database of our own (dropped on exit)."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'staging.db'}"
    return stack.enter_context(own_database("cw_bench_callbacks"))


def reader_engine(url: str) -> sa.Engine:
    """The poller's engine (SQLite waits up to 5 s on a busy database)."""
    if url.startswith("sqlite"):
        return sa.create_engine(url, connect_args={"timeout": 5})
    return sa.create_engine(url, pool_pre_ping=True)


def cold_phase(
    args: argparse.Namespace,
    airflow: AirflowApi,
    api: ConnectWiseApi,
    poller: Poller,
    changes: list[Change],
) -> list[dict[str, Any]]:
    """Each change alone, after the previous run ended and more than the linger passed."""
    colds: list[dict[str, Any]] = []
    last_change = 0.0
    for index, change in enumerate(changes):
        wait_idle(airflow, timeout=args.linger + 300)
        quiet = args.linger + 1 - (time.monotonic() - last_change)
        if quiet > 0:
            time.sleep(quiet)
        measure(api, poller, [change], 0, args.timeout, f"cold{index}")
        last_change = time.monotonic()
        read_inbox(poller.engine, [change])
        try:
            colds.append(cold_breakdown(airflow, change))
        except httpx.HTTPError as exc:  # the phases are extra: keep the latency
            print(f"cold breakdown unavailable: {exc}", flush=True)
            colds.append({"seen in staging": change.latency, "already_active": False})
        print(f"cold sample {index + 1}/{len(changes)}: {change.latency}", flush=True)
    return colds


def warm_phase(
    args: argparse.Namespace,
    api: ConnectWiseApi,
    poller: Poller,
    primer: Change,
    changes: list[Change],
) -> None:
    """A primer change starts a run; the changes follow ``spacing`` apart while it lingers."""
    measure(api, poller, [primer], 0, args.timeout, "primer")
    print(f"{len(changes)} changes, {args.spacing:.2f} s apart…", flush=True)
    measure(api, poller, changes, args.spacing, args.timeout, "warm")
    time.sleep(1)
    read_inbox(poller.engine, [primer, *changes])


def run_benchmark(args: argparse.Namespace, janitor: Janitor, workdir: Path) -> str:
    """Start everything, measure cold then warm; return the section text."""
    with ExitStack() as stack:
        url = staging_url(args.staging, workdir, stack)
        sim = SimulatorProcess(
            scale=args.scale,
            seed=11,
            extra_args=["--latency-ms", "0"],
            extra_env=janitor.env(PART),
            own_session=True,
            quiet=True,
        ).start()
        stack.callback(sim.close)
        assert sim.process is not None
        janitor.track(PART, session=sim.process.pid)
        stack.callback(stop_everything, janitor)
        api_port = free_port()  # the callback URL names it before Airflow starts
        connection = simulator_connection(
            sim, callback_url=f"http://127.0.0.1:{api_port}/connectwise"
        )
        standalone = Standalone(
            workdir,
            connection=connection,
            staging_url=url,
            janitor=janitor,
            part=PART,
            port=api_port,
        )
        write_linger_policy(standalone.home, args.linger)
        standalone.start((INITIAL_DAG, CALLBACK_DAG), timeout=240)
        airflow = standalone.api
        initial_seconds = run_initial_sync(airflow, timeout=900)
        entries = check_callbacks_installed(sim, api_port)
        print(f"initial sync {initial_seconds:.0f} s; {entries} callback entries", flush=True)
        airflow.unpause(CALLBACK_DAG)
        time.sleep(3)  # a cron run the unpause may start shows up now; wait it out
        wait_idle(airflow, timeout=400)

        poller = Poller(reader_engine(url))
        poller.start()
        stack.callback(poller.stopped.set)
        api = ConnectWiseApi(sim)
        sim.reset_stats()
        picked = pick_records(poller.engine, args.changes + args.cold_samples + 1, set())
        cold = [c for c in picked if c.target.kind == "contact"][: args.cold_samples]
        rest = [c for c in picked if c not in cold]
        primer, warm = rest[0], rest[1 : args.changes + 1]
        colds = cold_phase(args, airflow, api, poller, cold)
        warm_phase(args, api, poller, primer, warm)
        sim_callbacks = sim.stats().get("callbacks", {})
        gaps = linger_gaps(airflow.runs(CALLBACK_DAG), cold, [primer, *warm])
        samples = {"cold": cold, "warm": warm}
        if args.json:
            write_json(args.json, samples, colds)
        return report_text(args, samples, colds, initial_seconds, gaps, sim_callbacks)


def write_json(path: Path, samples: dict[str, list[Change]], colds: list[dict]) -> None:
    """Every sample with its phases, for a closer look."""
    document = {
        "cold_phases": colds,
        "samples": [
            {
                "phase": phase,
                "kind": c.target.kind,
                "id": c.record_id,
                "latency": c.latency,
                "accepted": c.received_at and c.received_at - c.changed_at,
                "applied": c.processed_at and c.processed_at - c.changed_at,
                "run": c.drain_run,
            }
            for phase, changes in samples.items()
            for c in changes
        ],
    }
    path.write_text(json.dumps(document, indent=2, default=str))


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description="Callback latency through Airflow")
    parser.add_argument("--changes", type=int, default=100, help="warm changes")
    parser.add_argument("--spacing", type=float, default=0.25, help="seconds between changes")
    parser.add_argument("--cold-samples", type=int, default=20, help="cold changes, one at a time")
    parser.add_argument(
        "--linger", type=int, default=5, help="linger_seconds of the callback DAG in this run"
    )
    parser.add_argument("--scale", default="small")
    parser.add_argument("--staging", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--timeout", type=float, default=240.0, help="seconds to wait for changes to land"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--json", type=Path, help="also write the samples to this JSON file")
    add_output_options(parser)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    janitor = Janitor(uuid.uuid4().hex, RUN_MARKER)

    def _terminate(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    workdir = Path(tempfile.mkdtemp(prefix="cw-bench-callbacks-"))
    try:
        text = run_benchmark(args, janitor, workdir)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    publish(args, SECTION, text)
    return 1 if "**LOST:" in text else 0


if __name__ == "__main__":
    sys.exit(main())
