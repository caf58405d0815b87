"""Gather a sync's mapped rows into chunks; check and load each on threads of their own."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from connectwise.mapping.models import SyncSettings
from connectwise.spilled_chunk import SpilledChunk
from connectwise.staging.records import Rejection

log = logging.getLogger(__name__)

Row = dict[str, Any]
Load = Callable[[SpilledChunk], None]
MEGABYTE = 1024 * 1024
_DEFAULTS = SyncSettings()  # the mapping's chunk bounds when a caller gives none


class ChunkLoader:
    """Gather rows into chunks and run ``load`` for each, in order: inline or on threads.

    A chunk closes at ``max_rows`` rows or once its records' JSON (``raw``) reaches
    ``max_bytes``: wide records (many custom fields) cannot make one transaction many times
    larger. Chunks are gathered on disk (:class:`SpilledChunk`), not in memory. The sync adds
    each mapped part (:meth:`add`), lets go of it, then calls :meth:`flush_if_full`, so a
    chunk that loads inline does not share the heap with the part that filled it.

    With ``loaders`` = 0 a full chunk loads in the caller's thread. SQLite gains nothing from a
    loader thread (measured: the same time; its writer is one connection and most of a load is
    Python holding the GIL), and the mapping and the load would then each hold a part at once.
    PostgreSQL parses and indexes a chunk in a process of its own, so there the sync maps the
    next chunk meanwhile: with ``loaders`` >= 1, chunks load on that many threads and
    connections, a full chunk waiting while all are busy (at most ``loaders`` + 1 chunks
    exist). Several loaders only for chunks that share no record (one read of an entity).
    Each chunk loads in its own transaction either way. A failed load stops the sync: the
    next hand-over (or leaving the block) raises its error, and no chunk handed over after
    the error was seen loads.
    """

    def __init__(
        self,
        load: Load,
        loaders: int = 1,
        *,
        max_rows: int = _DEFAULTS.load_chunk_rows,
        max_bytes: int = int(_DEFAULTS.load_chunk_megabytes * MEGABYTE),
    ) -> None:
        self._load = load
        self._max_rows, self._max_bytes = max_rows, max_bytes
        self._chunk = SpilledChunk()
        self._chunks: queue.SimpleQueue[SpilledChunk | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(loaders)
        self._error: BaseException | None = None
        self._threads = [
            threading.Thread(target=self._run, name=f"cw-load-{number}", daemon=True)
            for number in range(loaders)
        ]

    def __enter__(self) -> ChunkLoader:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        for _thread in self._threads:
            self._chunks.put(None)
        for thread in self._threads:
            thread.join()  # a chunk already handed over is loaded (or fails) first
        self._chunk.close()
        if kind is None:
            self._raise_failure()
        elif self._error is not None:  # the read failed too: its error propagates
            log.error("Loading a chunk failed as well: %s", self._error)

    def add(self, rows: list[Row], rejected: list[Rejection]) -> None:
        """Add mapped rows and rejections to the chunk (written to its file at once)."""
        self._chunk.add(rows, rejected)

    def flush_if_full(self) -> None:
        """Hand over the chunk if it is full (after the caller has let go of its last part)."""
        chunk = self._chunk
        if chunk.rows >= self._max_rows or chunk.bytes >= self._max_bytes:
            self.flush()

    def flush(self) -> None:
        """Hand over what has been gathered (the sync's last chunk, once it has read all)."""
        chunk, self._chunk = self._chunk, SpilledChunk()
        if chunk.is_empty:
            chunk.close()
            self._raise_failure()
            return
        if not self._threads:
            try:
                self._load(chunk)
            finally:
                chunk.close()
            return
        self._idle.acquire()  # with one loader: once the previous chunk has loaded
        if self._error is not None:
            self._idle.release()
            chunk.close()
            raise self._error
        self._chunks.put(chunk)

    def _run(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            try:
                self._load(chunk)
            except BaseException as exc:  # handed to the sync's thread
                self._error = self._error or exc
            finally:
                chunk.close()
                self._idle.release()

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error
