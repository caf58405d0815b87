"""Change records through the ConnectWise API and watch staging for them (callback latency).

``bench/callback_latency.py`` drives the run; this holds what one change is, how it is made
(a PATCH authenticated like the hook), how staging is watched (a 50 ms poller), and where a
cold change's time goes (the inbox's and Airflow's REST API's timestamps).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import sqlalchemy as sa
from connectwise.assets import callback_inbox_asset

from scripts.live_airflow import AirflowApi
from simulator.testing import SimulatorProcess

CALLBACK_DAG = "connectwise_callbacks"
POLL_SECONDS = 0.05


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


def timestamp(value: Any) -> float | None:
    """Epoch seconds of an API or database timestamp (naive ones are UTC)."""
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
            change.received_at = timestamp(row[2])
            change.processed_at = timestamp(row[3])
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
            for t in (timestamp(e["timestamp"]) for e in events)
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
        "dag run queued": timestamp(run and run.get("queued_at")),
        "dag run started": timestamp(run and run.get("start_date")),
        "task queued": timestamp(ti and ti.get("queued_when")),
        "task started": timestamp(ti and ti.get("start_date")),
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
