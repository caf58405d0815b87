"""Where a sync's raw records come from: the API (all, changed since, or by id) or staging.

Re-mapping reads staging: the staged raw records and the open quarantine payloads that are
newer than them, so a mapping fix reaches the records it quarantined.

Each source says how many records to expect (for progress and ETA) and yields pages of raw
ConnectWise records; the engine treats them all alike.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import TYPE_CHECKING, Any

from connectwise.client.conditions import all_of, changed_since, conditions_for_ids
from connectwise.client.packed import Page
from connectwise.client.paging import interleave, read_pages
from connectwise.staging import history, issues, lookups

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from connectwise.client.hook import ConnectWiseHook
    from connectwise.entities import Entity, Parent

log = logging.getLogger(__name__)
Record = dict[str, Any]
STAGED_PAGE_ROWS = 1000


@dataclass
class PageSource:
    """An expected record count and the pages themselves."""

    expected: int
    pages: Iterator[Page]  # a packed page is decoded by the sync, part by part
    settled: list[int] = field(default_factory=list)  # ids whose quarantine row is moot


def api_source(hook: ConnectWiseHook, entity: Entity, since: datetime | None) -> PageSource:
    """Read every record, or those changed since ``since``, with stable keyset paging.

    The first page is read at once: when it is short it is all there is, so a quiet entity
    costs one request. Only a full first page is followed by a ``/count`` of the rest, which
    sizes the progress figures and lets parallel readers split the remaining id range.
    """
    key = entity.primary_key
    conditions = changed_since(since, entity.cursor_field) if since is not None else None
    first = next(
        iter(hook.paginate(entity.endpoint, conditions=conditions, key=key, packed=True)), []
    )
    if len(first) < hook.site.page_size:
        return PageSource(len(first), iter([first] if first else []))
    last_read = int(first[-1][key])
    remaining = hook.count(entity.endpoint, conditions=all_of(f"{key} > {last_read}", conditions))
    if remaining == 0:
        return PageSource(len(first), iter([first]))
    pages = read_pages(
        hook,
        entity.endpoint,
        conditions=conditions,
        parallelism=hook.site.max_parallel_requests,
        expected=remaining,
        start_after=last_read,
        key=key,
    )
    return PageSource(len(first) + remaining, _first_then(first, pages))


def _first_then(first: Page, rest: Iterator[Page]) -> Iterator[Page]:
    """Yield ``first``, then ``rest``, holding ``first`` no longer than its consumer does.

    (``chain([first], rest)`` keeps its arguments, so the first page, 1.8 MB packed at
    1,000 contacts, would live as long as the sync.)
    """
    held = [first]
    del first
    yield held.pop()
    yield from rest


def ids_source(
    hook: ConnectWiseHook, engine: Engine, entity: Entity, record_ids: list[int]
) -> PageSource:
    """Read the records with these ids (those that still exist), in URL-safe batches.

    A child entity's records are read under the parents their staged copies name.
    """
    wanted = sorted(set(record_ids))
    endpoints = (
        [entity.endpoint_for(parent) for parent in staged_parents_of(engine, entity, wanted)]
        if entity.parent
        else [entity.endpoint]
    )

    def pages() -> Iterator[Page]:
        for endpoint in endpoints:
            for conditions in conditions_for_ids(wanted, entity.primary_key):
                yield from hook.paginate(
                    endpoint, conditions=conditions, key=entity.primary_key, packed=True
                )

    return PageSource(len(wanted), pages())


def delivered_source(
    hook: ConnectWiseHook,
    engine: Engine,
    entity: Entity,
    records: tuple[Record, ...],
    record_ids: tuple[int, ...],
) -> PageSource:
    """Yield the records a callback delivered, then those read by id (deliveries without)."""
    fetched = ids_source(hook, engine, entity, list(record_ids)) if record_ids else None

    def pages() -> Iterator[Page]:
        if records:
            yield list(records)
        if fetched is not None:
            yield from fetched.pages

    return PageSource(len(records) + len(set(record_ids)), pages())


def children_source(hook: ConnectWiseHook, entity: Entity, parent_ids: list[int]) -> PageSource:
    """Read every child of the given parents (a parent's callback refreshes its children)."""

    def pages() -> Iterator[Page]:
        for parent_id in sorted(set(parent_ids)):
            yield from hook.paginate(
                entity.endpoint_for(parent_id), key=entity.primary_key, packed=True
            )

    return PageSource(len(set(parent_ids)), pages())


def staged_children(engine: Engine, entity: Entity, parent_ids: list[int]) -> list[int]:
    """Ids of the live staged children of some parents (read from ``raw``)."""
    return lookups.live_children(engine, entity.staging_table, _parent(entity).key, parent_ids)


def child_source(
    hook: ConnectWiseHook, engine: Engine, entity: Entity, since: datetime | None
) -> PageSource:
    """Read a child entity (e.g. agreement additions) parent by parent.

    A full read visits every live parent; an incremental one only the parents that changed
    (see :func:`changed_parent_ids`), so with nothing changed it sends no request at all.
    ConnectWise lists children only under their parent, and a child changed without its
    parent is caught by the daily reconciliation's full pass or at once by a callback.
    ``expected`` counts parents, so progress and ETA are per parent.
    """
    parents = (
        live_parent_ids(engine, entity)
        if since is None
        else changed_parent_ids(engine, entity, since)
    )
    conditions = changed_since(since, entity.cursor_field) if since is not None else None
    readers = max(1, hook.site.max_parallel_requests)
    groups = [parents[index::readers] for index in range(readers)]

    def read(group: list[int]) -> Iterator[Page]:
        for parent_id in group:
            endpoint = entity.endpoint_for(parent_id)
            yield from hook.paginate(
                endpoint, conditions=conditions, key=entity.primary_key, packed=True
            )

    pages = interleave([read(group) for group in groups if group], depth=2 * readers)
    return PageSource(len(parents), pages)


def changed_parent_ids(engine: Engine, entity: Entity, since: datetime) -> list[int]:
    """Ids of the live staged parents whose children an incremental read must visit.

    Those whose ``last_updated`` is at or after ``since``, less those the child entity's
    previous successful read visited in the version staged now: staged before that read
    began (``loaded_at`` moves only when a load changes the row) and within its lower bound.
    Without this, the parents changed within the watermark overlap before the previous run
    would be visited again although nothing changed. ``loaded_at`` and the read's start are
    both stamped by our workers' clocks, which must agree to well within the sync interval.
    """
    previous = history.last_read(engine, entity.name)
    rows = lookups.live_updated_since(engine, _parent(entity).staging_table, since)
    return [
        parent_id
        for parent_id, loaded_at, last_updated in rows
        if previous is None or not _visited_by(previous, loaded_at, last_updated)
    ]


def _visited_by(read: history.LastRead, loaded_at: Any, last_updated: Any) -> bool:
    loaded = history.as_datetime(loaded_at)
    updated = history.as_datetime(last_updated)
    if loaded is None or loaded >= read.started_at:
        return False
    return read.lower_bound is None or (updated is not None and updated >= read.lower_bound)


def live_parent_ids(engine: Engine, entity: Entity) -> list[int]:
    """Ids of the live staged parents of a child entity."""
    return sorted(history.staged_ids(engine, _parent(entity).staging_table))


def staged_parents_of(engine: Engine, entity: Entity, record_ids: list[int]) -> list[int]:
    """Parent ids named by the staged copies of some child records."""
    key = _parent(entity).key
    records = lookups.raw_records(engine, entity.staging_table, record_ids)
    return sorted({int(record[key]) for record in records if record.get(key) is not None})


def _parent(entity: Entity) -> Parent:
    if entity.parent is None:
        raise ValueError(f"{entity.name} is not a child entity: it has no parent")
    return entity.parent


def remap_source(engine: Engine, entity: Entity) -> PageSource:
    """Read what re-mapping re-applies the current mapping to (no API call).

    The raw records in staging, then the open quarantine payloads that are the newest known
    version of their record (see :func:`plan_remap`); a staged row such a payload replaces is
    left out, so each record is mapped once. ``settled`` lists the quarantine rows that are
    moot (staging holds a newer version, or the record was deleted since).
    """
    plan = plan_remap(issues.held_records(engine, entity.name, entity.staging_table))
    if plan.left:
        log.info(
            "%s: %d quarantined payloads are not records (e.g. callback deliveries) and stay "
            "quarantined: re-mapping cannot load them",
            entity.name,
            plan.left,
        )
    staged = staged_source(engine, entity, skip=set(plan.reprocess.values()))
    held = issues.held_payloads(engine, entity.name, set(plan.reprocess))
    return PageSource(
        staged.expected - plan.replaced_staged + len(plan.reprocess),
        chain(staged.pages, held),
        settled=plan.settled,
    )


@dataclass(frozen=True)
class RemapPlan:
    """What a re-map does with an entity's open quarantine."""

    reprocess: dict[str, int]  # record_key -> record id: payloads to map again
    settled: list[int]  # record ids whose quarantine row is moot: resolve it
    replaced_staged: int  # live staged rows whose newer version is a re-processed payload
    left: int  # payloads that are not records: left as they are


def plan_remap(held: list[issues.HeldRecord]) -> RemapPlan:
    """Decide, per open quarantine row, whether its payload is mapped again.

    A payload is the newest known version of its record, and mapped again, when the record is
    not staged, was staged but deleted before it was quarantined (it came back), or is staged
    with an older ``lastUpdated``. The row is moot, and resolved, when staging holds a newer
    version (older never overwrites newer) or the record was deleted after it was quarantined.
    Otherwise (the same version, or no timestamp to compare) the staged copy is mapped again
    and the row follows its outcome. A payload that is not a record with the row's id (a
    callback delivery given up) cannot be mapped and is left as it is.
    """
    reprocess: dict[str, int] = {}
    settled: list[int] = []
    replaced = left = 0
    for item in held:
        if not item.is_record or item.record_id is None:
            left += 1
        elif item.staged_deleted_at is not None and not _after(
            item.quarantined_at, item.staged_deleted_at
        ):
            settled.append(item.record_id)
        elif not item.is_staged or item.staged_deleted_at is not None:
            reprocess[item.record_key] = item.record_id
        elif _after(item.last_updated, item.staged_last_updated):
            reprocess[item.record_key] = item.record_id
            replaced += 1
        elif _after(item.staged_last_updated, item.last_updated):
            settled.append(item.record_id)
    return RemapPlan(reprocess, settled, replaced, left)


def _after(moment: datetime | None, other: datetime | None) -> bool:
    return moment is not None and other is not None and moment > other


def staged_source(engine: Engine, entity: Entity, skip: set[int] | None = None) -> PageSource:
    """Read the live raw records in staging, less the ids in ``skip``."""
    left_out = skip or set()

    def pages() -> Iterator[list[Record]]:
        for rows in lookups.live_raw_pages(engine, entity.staging_table, STAGED_PAGE_ROWS):
            page = [record for record_id, record in rows if record_id not in left_out]
            if page:
                yield page

    return PageSource(lookups.live_count(engine, entity.staging_table), pages())
