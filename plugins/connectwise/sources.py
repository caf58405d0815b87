"""Where a sync's raw records come from: the API (all, changed since, or by id) or staging.

Each source says how many records to expect (for progress and ETA) and yields pages of raw
ConnectWise records; the engine treats them all alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from connectwise.conditions import changed_since
from connectwise.paging import prefetch, read_pages
from connectwise.reconcile import conditions_for_ids

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from connectwise.entities import Entity
    from connectwise.hook import ConnectWiseHook

Record = dict[str, Any]
STAGED_PAGE_ROWS = 1000


@dataclass
class PageSource:
    """An expected record count and the pages themselves."""

    expected: int
    pages: Iterator[list[Record]]


def api_source(hook: ConnectWiseHook, entity: Entity, since: datetime | None) -> PageSource:
    """Read every record, or those changed since ``since``, with stable keyset paging."""
    conditions = changed_since(since) if since is not None else None
    expected = hook.count(entity.endpoint, conditions=conditions)
    pages = read_pages(
        hook,
        entity.endpoint,
        conditions=conditions,
        parallelism=hook.site.max_parallel_requests,
        expected=expected,
    )
    return PageSource(expected, prefetch(pages))


def ids_source(hook: ConnectWiseHook, entity: Entity, record_ids: list[int]) -> PageSource:
    """Read the records with these ids (those that still exist), in URL-safe batches."""

    def pages() -> Iterator[list[Record]]:
        for conditions in conditions_for_ids(sorted(set(record_ids))):
            yield from hook.paginate(entity.endpoint, conditions=conditions)

    return PageSource(len(set(record_ids)), pages())


def staged_source(engine: Engine, entity: Entity) -> PageSource:
    """Read the raw records already in staging (re-mapping calls no API)."""
    with engine.connect() as connection:
        expected = int(
            connection.execute(
                sa.text(f"SELECT COUNT(*) FROM {entity.staging_table} WHERE deleted_at IS NULL")
            ).scalar()
            or 0
        )

    def pages() -> Iterator[list[Record]]:
        last_id = -1
        while True:
            with engine.connect() as connection:
                rows = connection.execute(
                    sa.text(
                        f"SELECT id, raw FROM {entity.staging_table} WHERE deleted_at IS NULL "
                        "AND id > :last_id ORDER BY id LIMIT :limit"
                    ),
                    {"last_id": last_id, "limit": STAGED_PAGE_ROWS},
                ).all()
            if not rows:
                return
            yield [raw if isinstance(raw, dict) else json.loads(raw) for _, raw in rows]
            last_id = int(rows[-1][0])

    return PageSource(expected, pages())
