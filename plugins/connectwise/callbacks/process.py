"""Apply the inbox: per entity, the latest delivery of each record, through the sync loop.

Deliveries are read in the order they were accepted. For each record only its latest delivery
is applied (earlier ones are ``superseded``: applying them first would change nothing that
lasts), which keeps per-record order whatever the batch holds. A delivery that carries the
record is mapped from it; one without (deletes, older payload versions) is read by id, and a
record ConnectWise no longer returns is soft-deleted. The writer never lets an older
``lastUpdated`` overwrite a newer one, so a replayed batch changes nothing.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connectwise.callbacks.inbox import delivery_of
from connectwise.entity_sync import EntitySync
from connectwise.errors import ConnectWiseConnectionError, ConnectWiseTransientError
from connectwise.staging import inbox
from connectwise.staging.quarantine import quarantine
from connectwise.staging.records import Rejection
from connectwise.sync_request import SyncRequest

if TYPE_CHECKING:
    from connectwise.jobs import Job

log = logging.getLogger(__name__)
BATCH_SIZE = 500
MAX_ATTEMPTS = 5
# The API being unreachable is not the records' fault: count the attempt and stop the drain.
OUTAGES = (ConnectWiseTransientError, ConnectWiseConnectionError)


@dataclass
class DrainFigures:
    """What one drain did (small, safe for XCom)."""

    batches: int = 0
    deliveries: int = 0
    applied: int = 0
    superseded: int = 0
    retrying: int = 0
    failed: int = 0
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for XCom and logs."""
        return dict(self.__dict__)

    def log_batch(self, deliveries: int) -> None:
        """Log the batch just applied and the drain's totals so far."""
        log.info(
            "Callback batch %d: %d deliveries; so far %d applied, %d superseded, %d to retry, "
            "%d failed",
            self.batches,
            deliveries,
            self.applied,
            self.superseded,
            self.retrying,
            self.failed,
        )

    def add_sync(self, result: dict[str, Any]) -> None:
        """Add one sync's counts to its entity's totals over the whole drain."""
        name = str(result["entity"])
        totals = self.entities.setdefault(name, {"entity": name, "mode": "callback"})
        for key, value in result.items():
            if isinstance(value, int) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + value


@dataclass
class RecordGroup:
    """The pending deliveries of one entity in a batch, latest per record last."""

    entity: str
    latest: dict[int, inbox.InboxRow] = field(default_factory=dict)
    superseded: list[int] = field(default_factory=list)

    def add(self, row: inbox.InboxRow) -> None:
        """Keep the latest delivery per record (rows arrive in accepted order)."""
        earlier = self.latest.pop(row.record_id, None)
        if earlier is not None:
            self.superseded.append(earlier.id)
        self.latest[row.record_id] = row

    def request(self, rows: list[inbox.InboxRow], run_id: str, sync: EntitySync) -> SyncRequest:
        """Build the callback-mode sync request for ``rows`` of this group."""
        records, fetch = [], []
        for row in rows:
            record = delivery_of(row).record() if row.action != "deleted" else None
            if record is None:
                fetch.append(row.record_id)
            else:
                records.append(record)
        return SyncRequest.callback(
            sync.registry[self.entity], run_id, records=records, record_ids=fetch
        )


def _pause(stop: threading.Event | None, seconds: float) -> None:
    """Wait for the next poll; a set ``stop`` ends the wait at once."""
    if stop is not None:
        stop.wait(seconds)
    else:
        time.sleep(seconds)


def drain(
    job: Job,
    run_id: str,
    *,
    batch_size: int = BATCH_SIZE,
    max_attempts: int = MAX_ATTEMPTS,
    linger_seconds: float = 0.0,
    poll_seconds: float = 0.25,
    max_seconds: float = 600.0,
    stop: threading.Event | None = None,
) -> dict[str, Any]:
    """Apply pending deliveries batch by batch; stop when the inbox stays empty.

    With ``linger_seconds`` the drain keeps polling that long after its last delivery, so a
    burst of changes is applied within a poll interval instead of paying a cold task start
    each; ``max_seconds`` bounds the whole drain. An unreachable API ends it at once, and a
    set ``stop`` (the task was asked to terminate) ends the lingering.
    """
    figures = DrainFigures()
    sync = job.sync
    started = time.monotonic()
    idle_until = started + linger_seconds
    while time.monotonic() - started < max_seconds:
        rows = inbox.pending(job.engine, batch_size)
        if not rows:
            if time.monotonic() >= idle_until or (stop is not None and stop.is_set()):
                break
            _pause(stop, poll_seconds)
            continue
        figures.batches += 1
        figures.deliveries += len(rows)
        batch_run = run_id if figures.batches == 1 else f"{run_id}.{figures.batches}"
        outage = _apply_batch(sync, rows, batch_run, max_attempts, figures)
        figures.log_batch(len(rows))
        if outage:
            break
        if figures.retrying and len(rows) < batch_size:
            break  # what is left is waiting for its next attempt, not for this loop
        idle_until = time.monotonic() + linger_seconds
    result = figures.as_dict()
    result["backlog"] = inbox.backlog(job.engine)
    return result


def _apply_batch(
    sync: EntitySync,
    rows: list[inbox.InboxRow],
    run_id: str,
    max_attempts: int,
    figures: DrainFigures,
) -> bool:
    """Apply one batch; return True if the API was unreachable (stop draining)."""
    groups: dict[str, RecordGroup] = {}
    for row in rows:
        groups.setdefault(row.entity, RecordGroup(row.entity)).add(row)
    for name, group in groups.items():
        if name not in sync.registry.names():
            _give_up(sync, list(group.latest.values()), f"unknown entity {name!r}", run_id, figures)
            continue
        latest = list(group.latest.values())
        try:
            result = sync.run(group.request(latest, run_id, sync))
            _refresh_children(sync, name, latest, run_id, figures)
        except OUTAGES as exc:
            _retry_later(sync, [*latest], str(exc), run_id, max_attempts, figures)
            return True
        except Exception as exc:
            log.warning("%s: batch failed (%s); applying its records one by one", name, exc)
            result = _one_by_one(sync, group, latest, run_id, max_attempts, figures)
        else:
            inbox.mark(sync.engine, [row.id for row in latest], inbox.APPLIED, run_id)
            figures.applied += len(latest)
        inbox.mark(sync.engine, group.superseded, inbox.SUPERSEDED, run_id)
        figures.superseded += len(group.superseded)
        figures.add_sync(result)
    return False


def _refresh_children(
    sync: EntitySync,
    parent: str,
    rows: list[inbox.InboxRow],
    run_id: str,
    figures: DrainFigures,
) -> None:
    """Re-read the children of changed parents (an agreement's additions), when synced.

    Children have no callbacks of their own; their parent's delivery is the signal.
    """
    parent_ids = tuple(row.record_id for row in rows if row.action != "deleted")
    for child in sync.registry.entities.values():
        if (
            child.parent
            and child.parent.entity == parent
            and parent_ids
            and sync.mapping.syncs(child)
        ):
            request = SyncRequest.callback(child, f"{run_id}:{child.name}", parent_ids=parent_ids)
            result = sync.run(request)
            figures.add_sync(result)


def _one_by_one(
    sync: EntitySync,
    group: RecordGroup,
    rows: list[inbox.InboxRow],
    run_id: str,
    max_attempts: int,
    figures: DrainFigures,
) -> dict[str, Any]:
    totals: dict[str, Any] = defaultdict(int)
    for row in rows:
        try:
            result = sync.run(group.request([row], f"{run_id}.r{row.id}", sync))
            _refresh_children(sync, group.entity, [row], f"{run_id}.r{row.id}", figures)
        except Exception as exc:
            _retry_later(sync, [row], str(exc), run_id, max_attempts, figures)
            continue
        inbox.mark(sync.engine, [row.id], inbox.APPLIED, run_id)
        figures.applied += 1
        for key, value in result.items():
            if isinstance(value, int):
                totals[key] += value
    return {"entity": group.entity, "mode": "callback", **totals}


def _retry_later(
    sync: EntitySync,
    rows: list[inbox.InboxRow],
    error: str,
    run_id: str,
    max_attempts: int,
    figures: DrainFigures,
) -> None:
    """Count the attempt; a delivery out of attempts is failed and quarantined."""
    inbox.record_failure(sync.engine, [row.id for row in rows], error, run_id)
    exhausted = [row for row in rows if row.attempts + 1 >= max_attempts]
    figures.retrying += len(rows) - len(exhausted)
    if exhausted:
        _give_up(
            sync, exhausted, f"gave up after {max_attempts} attempts: {error}", run_id, figures
        )


def _give_up(
    sync: EntitySync,
    rows: list[inbox.InboxRow],
    reason: str,
    run_id: str,
    figures: DrainFigures,
) -> None:
    inbox.mark(sync.engine, [row.id for row in rows], inbox.FAILED, run_id)
    figures.failed += len(rows)
    by_entity: dict[str, list[Rejection]] = defaultdict(list)
    for row in rows:
        by_entity[row.entity].append(
            Rejection(row.record_id, "callback_delivery", reason[:2000], _payload(row))
        )
    with sync.engine.begin() as connection:
        for entity, rejections in by_entity.items():
            quarantine(connection, entity, rejections, run_id)
    log.error("Quarantined %d callback deliveries: %s", len(rows), reason)


def _payload(row: inbox.InboxRow) -> str:
    return json.dumps({"inbox_id": row.id, "action": row.action, "record_id": row.record_id})
