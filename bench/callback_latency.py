"""Benchmark callback latency: a change in ConnectWise → its row updated in staging.

Everything runs as it would deployed, on this machine: the simulator (a subprocess) delivers
signed callbacks over HTTP to the receiver mounted in the api-server of an isolated
``airflow standalone`` (api-server, scheduler, dag-processor, triggerer; LocalExecutor, SQLite
metadata). The receiver commits each delivery to ``meta_callback_inbox`` and registers an
asset event, which starts ``connectwise_callbacks``; its task drains the inbox into staging.

Steps: the initial sync runs through Airflow (``connectwise_initial_sync``, whose last task
installs the callbacks); ``connectwise_callbacks`` is unpaused; one change is timed alone
(cold: no run of the callback DAG is active, so it pays a DAG-run and task start); then
``--changes`` records (contacts, companies, catalog items, opportunities; each record once)
are PATCHed through the ConnectWise API ``--spacing`` seconds apart, each with a unique
marker. A poller reads staging every 50 ms; latency = first time the row shows its marker −
``time.time()`` just before the PATCH. Prints the figures and writes docs/benchmarks.md
(section "Callback latency (#6)").

    .venv/bin/python bench/callback_latency.py [--changes 100] [--spacing 0.25]
        [--staging sqlite|postgres] [--no-warmup] [--cold-samples 1] [--no-write]

Every process it starts is stopped on exit, also on failure or Ctrl-C: the simulator and
Airflow run in sessions of their own, and everything in those sessions (Airflow moves task
processes into process groups of their own, not out of the session) or carrying this run's
environment marker gets SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import secrets
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "plugins"), str(ROOT / "scripts")]

from connectwise.assets import callback_inbox_asset  # noqa: E402
from janitor import Janitor  # noqa: E402

from bench.report import write_section  # noqa: E402
from scripts.live_airflow import AirflowApi, Standalone, simulator_connection  # noqa: E402
from scripts.local_airflow import FAST_LOCAL_EXECUTOR  # noqa: E402
from simulator.testing import SimulatorProcess, free_port  # noqa: E402

RUN_MARKER = "CW_BENCH_CALLBACK_RUN"
SECTION = "Callback latency (#6)"
INITIAL_DAG = "connectwise_initial_sync"
CALLBACK_DAG = "connectwise_callbacks"
POLL_SECONDS = 0.05
TARGET_P95 = 5.0


@dataclass(frozen=True)
class Target:
    """One kind of record to change: API path, JSON field, and where staging shows it."""

    kind: str
    api_path: str
    field: str
    table: str
    column: str  # a mapped column, or "raw" (the marker is looked for in the JSON text)
    share: float


TARGETS = (
    Target("contact", "company/contacts", "title", "stg_contacts", "title", 0.25),
    Target("company", "company/companies", "phoneNumber", "stg_companies", "phone_number", 0.25),
    Target(
        "catalog", "procurement/catalog", "description", "stg_catalog_items", "description", 0.25
    ),
    Target("opportunity", "sales/opportunities", "notes", "stg_opportunities", "raw", 0.25),
)

# Scheduler settings tried for latency; only what --tuned sets is applied (see the report).
TUNED_SETTINGS: dict[str, str] = {}


# --- processes -----------------------------------------------------------------------------------


PART = "bench"  # one part: everything this run starts


def stop_everything(janitor: Janitor) -> None:
    """Stop every process this run started; say which needed SIGKILL or survived."""
    stubborn = janitor.stop(PART)
    if stubborn:
        print(f"SIGKILL for {len(stubborn)} process(es) still running: {stubborn}", flush=True)
    left = janitor.pids(PART)
    if left:
        print(f"WARNING: processes survived the clean-up: {left}", file=sys.stderr)


# --- Airflow -------------------------------------------------------------------------------------


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
    return [r for r in airflow.runs(CALLBACK_DAG) if r["state"] in ("queued", "running")]


# --- changes and observation ---------------------------------------------------------------------


@dataclass
class Change:
    """One PATCH and when staging showed it."""

    target: Target
    record_id: int
    marker: str
    changed_at: float = 0.0
    patch_seconds: float = 0.0
    seen_at: float | None = None
    received_at: float | None = None  # the receiver committed the delivery to the inbox
    processed_at: float | None = None  # the drain marked it applied
    drain_run: str | None = None

    @property
    def latency(self) -> float | None:
        return None if self.seen_at is None else self.seen_at - self.changed_at


class ConnectWiseApi:
    """PATCH records like the hook authenticates: Basic company+public:private, clientId."""

    def __init__(self, sim: SimulatorProcess) -> None:
        login = f"{sim.company_id}+{sim.public_key}:{sim.private_key}"
        self.client = httpx.Client(
            base_url=sim.api_url,
            timeout=30,
            headers={
                "Authorization": "Basic " + base64.b64encode(login.encode()).decode(),
                "clientId": sim.client_id or "",
                "Content-Type": "application/json",
            },
        )

    def patch(self, change: Change) -> None:
        operations = [{"op": "replace", "path": change.target.field, "value": change.marker}]
        change.changed_at = time.time()
        response = self.client.patch(
            f"{change.target.api_path}/{change.record_id}", json=operations
        )
        change.patch_seconds = time.time() - change.changed_at
        if response.status_code >= 300:
            raise RuntimeError(
                f"PATCH {change.target.api_path}/{change.record_id}: "
                f"{response.status_code} {response.text[:300]}"
            )


class Poller(threading.Thread):
    """Read staging every POLL_SECONDS; stamp each change when its row shows the marker."""

    def __init__(self, engine: sa.Engine) -> None:
        super().__init__(name="staging-poller", daemon=True)
        self.engine = engine
        self.lock = threading.Lock()
        self.pending: list[Change] = []
        self.stopped = threading.Event()
        self.polls = 0
        self.errors = 0

    def watch(self, change: Change) -> None:
        with self.lock:
            self.pending.append(change)

    def outstanding(self) -> int:
        with self.lock:
            return len(self.pending)

    def run(self) -> None:
        while not self.stopped.is_set():
            started = time.monotonic()
            with self.lock:
                pending = list(self.pending)
            if pending:
                try:
                    self._poll(pending)
                except sa.exc.OperationalError:
                    self.errors += 1  # SQLite busy for a moment: the next poll reads again
            self.polls += 1
            self.stopped.wait(max(0.0, POLL_SECONDS - (time.monotonic() - started)))

    def _poll(self, pending: list[Change]) -> None:
        by_table: dict[Target, list[Change]] = {}
        for change in pending:
            by_table.setdefault(change.target, []).append(change)
        seen: list[Change] = []
        with self.engine.connect() as connection:
            for target, changes in by_table.items():
                query = sa.text(
                    f"SELECT id, {target.column} FROM {target.table} WHERE id IN :ids"
                ).bindparams(sa.bindparam("ids", expanding=True))
                rows = connection.execute(query, {"ids": [c.record_id for c in changes]}).all()
                now = time.time()
                values = {int(row[0]): row[1] for row in rows}
                for change in changes:
                    value = values.get(change.record_id)
                    text = value if isinstance(value, str) else json.dumps(value)
                    if value is not None and change.marker in text:
                        change.seen_at = now
                        seen.append(change)
        if seen:
            with self.lock:
                self.pending = [c for c in self.pending if c.seen_at is None]


def pick_records(engine: sa.Engine, count: int, exclude: set[tuple[str, int]]) -> list[Change]:
    """``count`` distinct staged records, spread over the targets by share, interleaved."""
    per_kind: dict[Target, list[int]] = {}
    with engine.connect() as connection:
        for target in TARGETS:
            ids = (
                connection.execute(
                    sa.text(f"SELECT id FROM {target.table} WHERE deleted_at IS NULL ORDER BY id")
                )
                .scalars()
                .all()
            )
            per_kind[target] = [i for i in ids if (target.kind, i) not in exclude]
    wanted = {t: round(count * t.share) for t in TARGETS}
    wanted[TARGETS[0]] += count - sum(wanted.values())
    queues = {}
    for target, ids in per_kind.items():
        if len(ids) < wanted[target]:
            raise RuntimeError(f"only {len(ids)} staged {target.kind} records")
        step = max(1, len(ids) // max(1, wanted[target]))
        queues[target] = ids[::step][: wanted[target]]
    changes: list[Change] = []
    while any(queues.values()):
        for target in TARGETS:
            if queues[target]:
                changes.append(Change(target, queues[target].pop(0), ""))
    return changes


def _timestamp(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.timestamp()


def read_inbox(engine: sa.Engine, changes: list[Change]) -> None:
    """Fill in when the receiver accepted each delivery and when the drain applied it."""
    entities = {
        "contact": "contacts",
        "company": "companies",
        "catalog": "catalog_items",
        "opportunity": "opportunities",
    }
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT entity, record_id, received_at, processed_at, run_id, status "
                "FROM meta_callback_inbox ORDER BY id"
            )
        ).all()
    latest: dict[tuple[str, int], Any] = {}
    for row in rows:
        latest[(row[0], int(row[1]))] = row  # each record is changed once: its last delivery
    for change in changes:
        row = latest.get((entities[change.target.kind], change.record_id))
        if row is not None:
            change.received_at = _timestamp(row[2])
            change.processed_at = _timestamp(row[3])
            change.drain_run = row[4]


def measure(
    api: ConnectWiseApi,
    poller: Poller,
    changes: list[Change],
    spacing: float,
    timeout: float,
    tag: str,
) -> None:
    """PATCH the changes ``spacing`` apart, then wait for staging to show all of them."""
    next_at = time.monotonic()
    for index, change in enumerate(changes):
        change.marker = f"cbl-{tag}-{index:03d}-{secrets.token_hex(3)}"
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        next_at = time.monotonic() + spacing
        poller.watch(change)
        api.patch(change)
    deadline = time.monotonic() + timeout
    while poller.outstanding() and time.monotonic() < deadline:
        time.sleep(0.1)


def dag_run_of(drain_run: str) -> str:
    """The DAG run id of an inbox ``run_id`` (the drain appends ``.<batch>`` or ``.r<id>``)."""
    head, _, tail = drain_run.rpartition(".")
    return head if head and tail.lstrip("r").isdigit() else drain_run


# --- where the cold start goes ------------------------------------------------------------------


def cold_breakdown(airflow: AirflowApi, change: Change) -> dict[str, float | str | None]:
    """Phases of the cold sample from the inbox and the REST API's timestamps."""
    asset_id = next(
        (
            a["id"]
            for a in airflow.call("GET", "assets", params={"limit": 100})["assets"]
            if a["name"] == callback_inbox_asset().name
        ),
        None,
    )
    events = (
        airflow.call("GET", "assets/events", params={"asset_id": asset_id, "limit": 100})[
            "asset_events"
        ]
        if asset_id is not None
        else []
    )
    event_at = min(
        (
            t
            for t in (_timestamp(e["timestamp"]) for e in events)
            if t is not None and t >= change.changed_at - 1
        ),
        default=None,
    )
    run = None
    if change.drain_run:
        base = dag_run_of(change.drain_run)
        run = next((r for r in airflow.runs(CALLBACK_DAG) if r["dag_run_id"] == base), None)
    ti = None
    if run is not None:
        ti = next(iter(airflow.task_instances(CALLBACK_DAG, run["dag_run_id"])), None)
    marks = {
        "change": change.changed_at,
        "delivery accepted (inbox)": change.received_at,
        "asset event": event_at,
        "dag run queued": _timestamp(run and run.get("queued_at")),
        "dag run started": _timestamp(run and run.get("start_date")),
        "task queued": _timestamp(ti and ti.get("queued_when")),
        "task started": _timestamp(ti and ti.get("start_date")),
        "applied (inbox processed_at)": change.processed_at,
        "seen in staging": change.seen_at,
    }
    result: dict[str, float | str | None] = {
        name: (None if at is None else at - change.changed_at) for name, at in marks.items()
    }
    result["run"] = run and run["dag_run_id"]
    queued = result["dag run queued"]
    result["already_active"] = isinstance(queued, float) and queued < 0
    result["run_type"] = run and run.get("run_type")
    return result


# --- report --------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def summarise(changes: list[Change]) -> dict[str, Any]:
    latencies = [c.latency for c in changes if c.latency is not None]
    accepted = [c.received_at - c.changed_at for c in changes if c.received_at]
    applied = [c.processed_at - c.changed_at for c in changes if c.processed_at]
    figures: dict[str, Any] = {"n": len(changes), "arrived": len(latencies)}
    if latencies:
        figures.update(
            min=min(latencies),
            p50=percentile(latencies, 0.5),
            mean=statistics.fmean(latencies),
            p95=percentile(latencies, 0.95),
            max=max(latencies),
        )
    if accepted:
        figures["accepted_p50"] = percentile(accepted, 0.5)
        figures["accepted_p95"] = percentile(accepted, 0.95)
    if applied:
        figures["applied_p50"] = percentile(applied, 0.5)
        figures["applied_p95"] = percentile(applied, 0.95)
    figures["drain_runs"] = sorted({dag_run_of(c.drain_run) for c in changes if c.drain_run})
    return figures


def _median_gap(colds: list[dict[str, Any]], start: str, end: str) -> float | None:
    gaps = [
        c[end] - c[start]
        for c in colds
        if isinstance(c.get(start), float) and isinstance(c.get(end), float)
    ]
    return statistics.median(gaps) if gaps else None


def report_text(
    args: argparse.Namespace,
    warm: dict[str, Any],
    colds: list[dict[str, Any]],
    initial_seconds: float,
    lost: list[Change],
    settings: dict[str, str],
    sim_callbacks: dict[str, Any],
) -> str:
    def s(value: float | None) -> str:
        return "–" if value is None else f"{value:.2f} s"

    cold_values = [c["seen in staging"] for c in colds if c.get("seen in staging") is not None]
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {os.cpu_count()} cores, Python "
        f"{platform.python_version()}: `airflow standalone` (api-server with the receiver "
        "plugin at `/connectwise`, scheduler with LocalExecutor and parallelism 4, "
        "dag-processor, triggerer; SQLite metadata), the simulator (scale "
        f"{args.scale}, 0 ms API latency) delivering signed callbacks over HTTP, "
        f"{args.staging} staging. The initial sync ran through Airflow first "
        f"({initial_seconds:.0f} s, callbacks installed by its last task).",
        "",
        "Measured: `time.time()` just before the PATCH through the ConnectWise API → the first "
        f"50 ms poll of the staging table that shows the change's unique marker "
        f"(contact `title`, company `phone_number`, catalog item `description`, opportunity "
        f"`notes` in `raw`), {warm['n']} distinct records, {args.spacing * 1000:.0f} ms apart. "
        "The path: simulator → receiver (verify, commit to `meta_callback_inbox`) → asset "
        "event → `connectwise_callbacks` run → its task drains the inbox (map → check → "
        "upsert). The first change after idle pays a DAG-run and task start (cold); the "
        "changes after it land in the task's linger loop (`linger_seconds`, default 120 s).",
        "",
        "| | n | min | p50 | mean | p95 | max |",
        "|---|---|---|---|---|---|---|",
        f"| warm (task lingering) | {warm['arrived']}/{warm['n']} | {s(warm.get('min'))} | "
        f"{s(warm.get('p50'))} | {s(warm.get('mean'))} | {s(warm.get('p95'))} | "
        f"{s(warm.get('max'))} |",
    ]
    if cold_values:
        lines.append(
            f"| cold (no run active) | {len(cold_values)}/{len(colds)} | {s(min(cold_values))} "
            f"| {s(statistics.median(cold_values))} | {s(statistics.fmean(cold_values))} | – | "
            f"{s(max(cold_values))} |"
        )
    lines += [
        "",
        f"Where the warm time goes (p50 / p95 from the change): delivery accepted by the "
        f"receiver {s(warm.get('accepted_p50'))} / {s(warm.get('accepted_p95'))}, applied by "
        f"the drain {s(warm.get('applied_p50'))} / {s(warm.get('applied_p95'))} (mostly "
        "waiting for the lingering task's next 250 ms inbox poll); the rest is this "
        "benchmark's 50 ms poll of staging. Simulator deliveries: "
        f"{sim_callbacks.get('delivered', '?')} delivered, {sim_callbacks.get('failed', '?')} "
        "failed.",
    ]
    for index, cold in enumerate(colds, 1):
        phases = ", ".join(
            f"{name} +{value:.2f} s"
            for name, value in cold.items()
            if isinstance(value, float) and name != "change"
        )
        note = " (NOT cold: it landed in a run already active)" if cold["already_active"] else ""
        lines += ["", f"Cold sample {index}{note}: {phases}."]
    verdict = "met" if warm.get("p95") is not None and warm["p95"] <= TARGET_P95 else "NOT met"
    lines += [
        "",
        f"Target p95 ≤ {TARGET_P95:.0f} s (the Salesbuildr seed: 1-2 minutes): {verdict} for "
        "changes while the task lingers; a change after more than `linger_seconds` of quiet "
        "pays the cold start above.",
    ]
    if lost:
        lines += [
            "",
            f"**LOST: {len(lost)} change(s) never reached staging** within "
            f"{args.timeout:.0f} s: "
            + ", ".join(f"{c.target.kind} {c.record_id}" for c in lost)
            + ".",
        ]
    real_colds = [c for c in colds if not c["already_active"]]
    in_task = _median_gap(real_colds, "task started", "applied (inbox processed_at)")
    to_start = _median_gap(real_colds, "asset event", "dag run started")
    if real_colds and in_task is not None and to_start is not None:
        lines += [
            "",
            f"Cold, median: asset event → run started {to_start:.2f} s (the scheduler loop "
            f"creates the run, then starts it on a later loop), task started → applied "
            f"{in_task:.2f} s (the task process's own start: DAG parse, imports, opening the "
            "job, then the first batch).",
        ]
    if not settings:
        lines += [
            "",
            "Airflow as every standalone of this project runs it (`scripts/local_airflow.py`): "
            "`AIRFLOW__CORE__PARALLELISM=4` and "
            + ", ".join(f"`{k}={v}`" for k, v in FAST_LOCAL_EXECUTOR.items())
            + " (warm task processes, see docs/architecture.md); no other tuning.",
        ]
    if settings:
        lines += [
            "",
            "Airflow settings of this run (beyond the defaults): "
            + ", ".join(f"`{k}={v}`" for k, v in settings.items())
            + ".",
        ]
    lines += ["", "Rerun: `.venv/bin/python bench/callback_latency.py`."]
    return "\n".join(lines)


# --- main ----------------------------------------------------------------------------------------


def staging_database(kind: str, workdir: Path) -> tuple[str, str | None]:
    """The staging URL, and the PostgreSQL schema to drop afterwards."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'staging.db'}", None
    schema = f"bench_cbl_{secrets.token_hex(4)}"
    engine = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test")
    with engine.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return (
        f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}",
        schema,
    )


def drop_schema(schema: str) -> None:
    engine = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test")
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


def reader_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        return sa.create_engine(url, connect_args={"timeout": 5})
    return sa.create_engine(url, pool_pre_ping=True)


def wait_idle(airflow: AirflowApi, timeout: float) -> None:
    """Wait until no run of the callback DAG is queued or running (a lingering task ends)."""
    deadline = time.monotonic() + timeout
    while callback_runs_active(airflow):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{CALLBACK_DAG} still running after {timeout:.0f} s")
        time.sleep(2)


def main() -> int:
    parser = argparse.ArgumentParser(description="Callback latency through Airflow")
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--spacing", type=float, default=0.25, help="seconds between changes")
    parser.add_argument("--scale", default="small")
    parser.add_argument("--staging", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--cold-samples",
        type=int,
        default=1,
        help="changes timed alone with no callback run active (each one after "
        "the first waits for the lingering task to end: ~2 min)",
    )
    parser.add_argument(
        "--no-warmup",
        action="store_true",
        help="no cold sample first: the burst itself pays the cold start",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=240.0,
        help="seconds to wait for the last change to reach staging",
    )
    parser.add_argument(
        "--tuned", action="store_true", help="apply TUNED_SETTINGS to Airflow (see the report)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--json", type=Path, help="also write the samples to this JSON file")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    janitor = Janitor(uuid.uuid4().hex, RUN_MARKER)

    def _terminate(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    workdir = Path(tempfile.mkdtemp(prefix="cw-bench-callbacks-"))
    schema = None
    sim: SimulatorProcess | None = None
    standalone: Standalone | None = None
    poller: Poller | None = None
    try:
        staging_url, schema = staging_database(args.staging, workdir)
        sim = SimulatorProcess(
            scale=args.scale,
            seed=11,
            extra_args=["--latency-ms", "0"],
            extra_env=janitor.env(PART),
            own_session=True,
            quiet=True,
        ).start()
        assert sim.process is not None
        janitor.track(PART, session=sim.process.pid)
        print(f"simulator on {sim.base_url}; Airflow home {workdir / 'airflow'}", flush=True)

        settings = TUNED_SETTINGS if args.tuned else {}
        api_port = free_port()  # the callback URL names it before Airflow starts
        connection = simulator_connection(
            sim, callback_url=f"http://127.0.0.1:{api_port}/connectwise"
        )
        standalone = Standalone(
            workdir,
            connection=connection,
            staging_url=staging_url,
            janitor=janitor,
            part=PART,
            port=api_port,
            extra_env=settings,
        )
        airflow = standalone.api
        started = time.monotonic()
        standalone.start((INITIAL_DAG, CALLBACK_DAG), timeout=240)
        print(f"Airflow ready in {time.monotonic() - started:.0f} s; initial sync…", flush=True)

        initial_seconds = run_initial_sync(airflow, timeout=900)
        entries = [
            e
            for e in sim.truth("system/callbacks")
            if str(e.get("description", "")).startswith("connectwise-etl ")
        ]
        if not entries or not all(f":{api_port}/connectwise/" in e["url"] for e in entries):
            raise RuntimeError(f"callbacks not installed as expected: {entries}")
        print(
            f"initial sync {initial_seconds:.0f} s; {len(entries)} callback entries "
            f"({', '.join(sorted(e['type'] for e in entries))})",
            flush=True,
        )

        airflow.unpause(CALLBACK_DAG)
        time.sleep(3)  # a cron run the unpause may start shows up now; wait it out
        wait_idle(airflow, timeout=400)

        engine = reader_engine(staging_url)
        poller = Poller(engine)
        poller.start()
        api = ConnectWiseApi(sim)
        sim.reset_stats()

        cold_count = 0 if args.no_warmup else max(1, args.cold_samples)
        picked = pick_records(engine, args.changes + cold_count, set())
        cold_changes = [c for c in picked if c.target.kind == "contact"][:cold_count]
        warm_changes = [c for c in picked if c not in cold_changes][: args.changes]

        colds: list[dict[str, Any]] = []
        for index, change in enumerate(cold_changes):
            if index:
                print("waiting for the lingering callback task to end…", flush=True)
                wait_idle(airflow, timeout=400)
            measure(api, poller, [change], 0, args.timeout, f"cold{index}")
            read_inbox(engine, [change])
            try:
                colds.append(cold_breakdown(airflow, change))
            except httpx.HTTPError as exc:  # the phases are extra: keep the latency
                print(f"cold breakdown unavailable: {exc}", flush=True)
                colds.append({"seen in staging": change.latency, "already_active": False})
            print(f"cold sample {index + 1}: {change.latency}", flush=True)

        print(f"{len(warm_changes)} changes, {args.spacing:.2f} s apart…", flush=True)
        measure(api, poller, warm_changes, args.spacing, args.timeout, "warm")
        time.sleep(1)
        read_inbox(engine, warm_changes)
        warm = summarise(warm_changes)
        lost = [c for c in [*cold_changes, *warm_changes] if c.seen_at is None]
        sim_callbacks = sim.stats().get("callbacks", {})
        runs = airflow.runs(CALLBACK_DAG)

        print(
            json.dumps(
                {
                    "warm": warm,
                    "cold": colds,
                    "callbacks": sim_callbacks,
                    "callback_runs": [(r["dag_run_id"], r["run_type"], r["state"]) for r in runs],
                    "poller": {"polls": poller.polls, "busy": poller.errors},
                },
                indent=2,
                default=str,
            ),
            flush=True,
        )
        if lost:
            print(
                f"\n!!! LOST CHANGES: {len(lost)} never reached staging within "
                f"{args.timeout:.0f} s — this is a bug in the callback path !!!",
                flush=True,
            )
            for change in lost:
                print(
                    f"   {change.target.kind} {change.record_id} marker {change.marker} "
                    f"accepted={change.received_at} applied={change.processed_at}",
                    flush=True,
                )
        text = report_text(args, warm, colds, initial_seconds, lost, settings, sim_callbacks)
        print("\n" + text)
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "warm": warm,
                        "cold": colds,
                        "samples": [
                            {
                                "kind": c.target.kind,
                                "id": c.record_id,
                                "latency": c.latency,
                                "accepted": c.received_at and c.received_at - c.changed_at,
                                "applied": c.processed_at and c.processed_at - c.changed_at,
                                "run": c.drain_run,
                            }
                            for c in [*cold_changes, *warm_changes]
                        ],
                    },
                    indent=2,
                    default=str,
                )
            )
        if not args.no_write:
            write_section(SECTION, text)
        return 1 if lost else 0
    finally:
        if poller is not None:
            poller.stopped.set()
        print("stopping Airflow and the simulator…", flush=True)
        stop_everything(janitor)
        if sim is not None:
            sim.close()
        if schema:
            drop_schema(schema)
        if standalone is not None and not args.keep:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
        elif args.keep:
            print(f"kept {workdir}")


if __name__ == "__main__":
    sys.exit(main())
