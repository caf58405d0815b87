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
    """Gather rows into chunks and run ``load`` for each on threads of their own, in order.

    A chunk closes at ``max_rows`` rows or once its records' JSON (``raw``) reaches
    ``max_bytes``: wide records (many custom fields) cannot make one transaction many times
    larger. Chunks are gathered on disk (:class:`SpilledChunk`), not in memory.

    SQLite and PostgreSQL do their share of a load without holding the GIL (SQLite's B-tree
    and checkpoint, PostgreSQL's parsing and indexing in its own process), so the sync maps the
    next chunk meanwhile. Each chunk loads in its own transaction, exactly as it would inline.
    With one loader (the default) chunks load one at a time, in order, and a full chunk waits
    until the previous one has loaded, so at most two exist. With ``loaders`` > 1 that many
    chunks load at once, on as many connections: for a server that works on each in a process
    of its own, and only for chunks that share no record (one read of an entity).
    A failed load stops the sync: the next hand-over (or leaving the block) raises its error,
    and no chunk handed over after the error was seen loads.
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
        """Add mapped rows and rejections to the chunk; hand it over once it is full."""
        chunk = self._chunk
        chunk.add(rows, rejected)
        if chunk.rows >= self._max_rows or chunk.bytes >= self._max_bytes:
            self.flush()

    def flush(self) -> None:
        """Hand over what has been gathered (the sync's last chunk, once it has read all)."""
        chunk, self._chunk = self._chunk, SpilledChunk()
        if chunk.is_empty:
            chunk.close()
            self._raise_failure()
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
