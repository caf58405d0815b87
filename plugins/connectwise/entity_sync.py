"""The sync loop every sync runs: extract → map → check → load, then advance the watermark.

Initial, incremental and manual runs differ only in the ``conditions`` they ask for.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectwise.checked_load import check_and_load
from connectwise.chunk_loader import MEGABYTE, ChunkLoader
from connectwise.client.packed import parts_of
from connectwise.errors import QualityGateError
from connectwise.filters import RecordFilter, record_filter_for
from connectwise.heap import heap_frozen
from connectwise.mapping.apply import RecordMapper
from connectwise.progress import Progress
from connectwise.quality.checks import CheckContext
from connectwise.quality.gate import QualityGate
from connectwise.reconcile import mark_deleted
from connectwise.sources import (
    PageSource,
    api_source,
    child_source,
    children_source,
    delivered_source,
    ids_source,
    remap_source,
    staged_children,
)
from connectwise.spilled_chunk import SpilledChunk
from connectwise.staging import history
from connectwise.staging.checkpoints import background_checkpoints
from connectwise.staging.database import is_postgres, utc_now
from connectwise.staging.lookups import live_ids_among
from connectwise.staging.quarantine import resolve_quarantine
from connectwise.staging.writer import StagingWriter
from connectwise.sync_request import SyncRequest

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from connectwise.client.hook import ConnectWiseHook
    from connectwise.entities import Entity, Registry
    from connectwise.mapping.load import Mapping

log = logging.getLogger(__name__)
# Chunks a PostgreSQL load keeps in flight: two kept the server busy while the sync mapped the
# next (large initial sync 4.7 s → 4.0 s here); each holds a connection and one more chunk.
PARALLEL_LOADS = 2
# Records of a page decoded at once: a page of 1,000 contacts is 6 MB of objects. Each part is
# mapped, handed to the chunk's file and let go; the loader reads the parts back as they were.
# 100 took the large peak from 8.6 to 5.9 MB against 250, at no measurable cost in time. A part
# also stops at 128 KB of JSON, so wide records (opportunities, ~2 KB each) cost what narrow
# ones do.
DECODED_RECORDS = 100
DECODED_BYTES = 128 * 1024

Row = dict[str, Any]


class EntitySync:
    """Run :class:`SyncRequest`s against one tenant and one staging database."""

    def __init__(
        self,
        hook: ConnectWiseHook,
        engine: Engine,
        mapping: Mapping,
        registry: Registry,
        *,
        progress_seconds: float = 5.0,
    ) -> None:
        self.hook = hook
        self.engine = engine
        self.mapping = mapping
        self.registry = registry
        # Rows checked and loaded per transaction: bounds memory and amortises GX's overhead.
        # The bytes of their records' JSON bound it too: wide records (many custom fields)
        # would otherwise make a chunk of the same rows many times larger.
        self.chunk_rows = mapping.config.settings.load_chunk_rows
        self.chunk_bytes = int(mapping.config.settings.load_chunk_megabytes * MEGABYTE)
        self.progress_seconds = progress_seconds
        self._figures_lock = threading.Lock()  # chunks may load on several threads at once

    def run(self, request: SyncRequest) -> dict[str, Any]:
        """Sync one entity; return its figures (small, safe for XCom).

        Raises:
            QualityGateError: the quarantined share passed ``max_quarantine_ratio``; the good
                rows are loaded but the watermark does not move.
            ConnectWiseError: the API or the configuration failed; the run row says why.
        """
        entity = request.entity
        since = self._lower_bound(request)
        mode = request.mode
        if request.moves_watermark:
            mode = "incremental" if since is not None else "full"
        run = history.SyncRun(
            self.engine, request.run_id, entity.name, mode, self.mapping.version, since
        )
        with history.run_history(run, self.hook.stats):
            with heap_frozen():
                newest = self._extract_and_load(request, since, run.figures)
            self._check_quarantined_share(entity, run.figures, mode)
            if request.moves_watermark:
                run.watermark = self._next_watermark(newest)
        figures = run.figures
        log.info(
            "%s: fetched %d, inserted %d, updated %d, unchanged %d, quarantined %d, filtered %d",
            entity.name,
            figures.fetched,
            figures.inserted,
            figures.updated,
            figures.unchanged,
            figures.quarantined,
            figures.filtered,
        )
        return {"entity": entity.name, "mode": mode, **figures.as_dict()}

    def _check_quarantined_share(
        self, entity: Entity, figures: history.RunFigures, mode: str
    ) -> None:
        """Fail the run when more than ``max_quarantine_ratio`` of its records were quarantined.

        A callback batch holds a handful of records: one bad record is not a broken feed.
        """
        ratio = figures.quarantined / figures.fetched if figures.fetched else 0.0
        limit = self.mapping.config.settings.max_quarantine_ratio
        if ratio > limit and mode != "callback":
            raise QualityGateError(
                f"{entity.title}: {figures.quarantined} of {figures.fetched} records "
                f"({ratio:.1%}) failed quality checks, above max_quarantine_ratio {limit:.1%}. "
                "Good records were loaded; see meta_quarantine for each reason, fix the data or "
                "the mapping, then rerun. The watermark was not advanced."
            )

    def _lower_bound(self, request: SyncRequest) -> datetime | None:
        if request.changed_since is not None:
            return request.changed_since
        if request.mode != "incremental":
            return None
        watermark = history.get_watermark(self.engine, request.entity.name)
        if watermark is None:
            log.info("%s has never synced: running a full sync first", request.entity.name)
            return None
        overlap = timedelta(seconds=self.mapping.config.settings.watermark_overlap_seconds)
        return watermark - overlap

    def _extract_and_load(
        self, request: SyncRequest, since: datetime | None, figures: history.RunFigures
    ) -> datetime | None:
        entity = request.entity
        record_filter = self._record_filter(request, since)
        mapper = RecordMapper(entity, self.mapping)
        source = self._source(request, since)
        self._settle_quarantine(entity, source.settled)
        progress = Progress(entity.name, source.expected, self.progress_seconds)
        newest: datetime | None = None
        # Only a callback batch soft-deletes what it did not see: other modes need no id set.
        seen: set[int] | None = set() if request.mode == "callback" else None
        loader = self._chunk_loader(request, mapper.columns, figures)
        with background_checkpoints(self.engine), loader:
            for page in source.pages:
                figures.pages += 1
                for records in parts_of(page, DECODED_RECORDS, DECODED_BYTES):
                    figures.fetched += len(records)
                    if seen is not None:
                        key = entity.primary_key
                        seen.update(r[key] for r in records if isinstance(r.get(key), int))
                    kept = [record for record in records if record_filter.keep(record)]
                    figures.filtered += len(records) - len(kept)
                    rows, failures = mapper.map_records(kept)
                    del records, kept  # the decoded records are not needed past their rows
                    loader.add(rows, failures)
                    newest = _newest(newest, rows)
                    progress.update(figures.fetched)
                    del rows, failures  # before a chunk loads or the next part decodes
                    loader.flush_if_full()
                del page
            loader.flush()
        if seen is not None:
            figures.deleted += self._delete_unseen(request, seen)
        progress.done(figures.fetched)
        return newest

    def _chunk_loader(
        self, request: SyncRequest, columns: dict[str, Any], figures: history.RunFigures
    ) -> ChunkLoader:
        """Return what gathers the sync's chunks, and checks and loads each on its threads."""
        entity = request.entity
        gate = QualityGate(entity, CheckContext(self.mapping.config, lookup=self._staged_among))
        remap = request.mode == "remap"
        writer = StagingWriter(self.engine, entity.staging_table, columns, remap=remap)

        def check_and_load(chunk: SpilledChunk) -> None:
            self._check_and_load(gate, writer, request, chunk, figures)

        return ChunkLoader(
            check_and_load,
            self._loaders(request),
            max_rows=self.chunk_rows,
            max_bytes=self.chunk_bytes,
        )

    def _record_filter(self, request: SyncRequest, since: datetime | None) -> RecordFilter:
        """Return the entity's record filter, prepared (a re-map keeps what staging holds)."""
        name = None if request.mode == "remap" else request.entity.record_filter
        record_filter = record_filter_for(name, self.mapping.config)
        is_full_read = request.moves_watermark and since is None
        record_filter.prepare(self.hook, self.engine, is_full_read=is_full_read)
        return record_filter

    def _delete_unseen(self, request: SyncRequest, seen: set[int]) -> int:
        """Soft-delete the records a callback batch asked for and ConnectWise no longer has."""
        expected = set(request.record_ids)
        if request.parent_ids:
            children = staged_children(self.engine, request.entity, list(request.parent_ids))
            expected |= set(children)
        return mark_deleted(self.engine, request.entity, sorted(expected - seen))

    def _loaders(self, request: SyncRequest) -> int:
        """Loader threads: PostgreSQL parses and indexes each chunk in a process of its own.

        Several only for one read of an entity (full, incremental, re-map), where no record is
        in two chunks. SQLite (one writer at a time) loads inline: see :class:`ChunkLoader`.
        """
        if not is_postgres(self.engine):
            return 0
        if request.mode in ("full", "incremental", "remap"):
            return PARALLEL_LOADS
        return 1

    def _source(self, request: SyncRequest, since: datetime | None) -> PageSource:
        if request.mode == "remap":
            return remap_source(self.engine, request.entity)
        if request.mode == "ids":
            return ids_source(self.hook, self.engine, request.entity, list(request.record_ids))
        if request.mode == "callback" and request.parent_ids:
            return children_source(self.hook, request.entity, list(request.parent_ids))
        if request.mode == "callback":
            return delivered_source(
                self.hook, self.engine, request.entity, request.records, request.record_ids
            )
        if request.entity.parent:
            return child_source(self.hook, self.engine, request.entity, since)
        return api_source(self.hook, request.entity, since)

    def _settle_quarantine(self, entity: Entity, record_ids: list[int]) -> None:
        """Resolve quarantine rows a newer staged version or a later delete made moot.

        Before anything loads: a record whose staged copy fails again is quarantined anew.
        """
        if not record_ids:
            return
        with self.engine.begin() as connection:
            resolve_quarantine(connection, entity.name, record_ids)
        log.info(
            "%s: resolved %d quarantined records that staging holds newer or that were deleted",
            entity.name,
            len(record_ids),
        )

    def _check_and_load(
        self,
        gate: QualityGate,
        writer: StagingWriter,
        request: SyncRequest,
        chunk: SpilledChunk,
        figures: history.RunFigures,
    ) -> None:
        """Check and load one chunk (inline on SQLite, on a loader thread on PostgreSQL)."""
        result = check_and_load(self.engine, gate, writer, chunk, request.run_id)
        with self._figures_lock:
            figures.quarantined += result.quarantined
            figures.inserted += result.counts.inserted
            figures.updated += result.counts.updated
            figures.unchanged += result.counts.unchanged

    def _staged_among(self, entity: str, ids: set[int]) -> set[int]:
        """Which of ``ids`` a referenced entity has staged (a chunk's references at once)."""
        return live_ids_among(self.engine, self.registry[entity].staging_table, ids)

    def _next_watermark(self, newest: datetime | None) -> datetime:
        """Return the next lower bound: no later than the server's clock when this sync began.

        Records changed while we read have ``lastUpdated`` after that moment, so the next run
        reads them again whatever page they were on.
        """
        started = self.hook.server_time_at_start or utc_now()
        return min(newest, started) if newest is not None else started


def _newest(current: datetime | None, rows: list[Row]) -> datetime | None:
    for row in rows:
        stamp = row.get("last_updated")
        if stamp is not None and (current is None or stamp > current):
            current = stamp
    return current
