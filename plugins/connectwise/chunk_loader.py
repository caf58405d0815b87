"""Check and load a sync's chunks on a thread of their own, one chunk behind the mapping."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from connectwise.mapping.apply import Rejection

log = logging.getLogger(__name__)

Row = dict[str, Any]
Load = Callable[[list[Row], list[Rejection]], None]


class ChunkLoader:
    """Run ``load`` for each submitted chunk on a thread of its own, in order.

    SQLite and PostgreSQL do their share of a load without holding the GIL (SQLite's B-tree
    and checkpoint, PostgreSQL's merge in its own process), so the sync maps the next chunk
    meanwhile. Chunks load one at a time and in order, each in its own transaction, exactly as
    they would inline. ``submit`` waits until the previous chunk has loaded, so at most two
    chunks exist: the one loading and the one being mapped. A failed load stops the sync: the
    next ``submit`` (or leaving the block) raises its error, and nothing after it loads.
    """

    def __init__(self, load: Load) -> None:
        self._load = load
        self._chunks: queue.SimpleQueue[tuple[list[Row], list[Rejection]] | None] = (
            queue.SimpleQueue()
        )
        self._idle = threading.Semaphore(1)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="cw-load", daemon=True)

    def __enter__(self) -> ChunkLoader:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self._chunks.put(None)
        self._thread.join()  # a chunk already handed over is loaded (or fails) first
        if kind is None:
            self._raise_failure()
        elif self._error is not None:  # the read failed too: its error propagates
            log.error("Loading a chunk failed as well: %s", self._error)

    def submit(self, rows: list[Row], rejected: list[Rejection]) -> None:
        """Hand a chunk over once the previous one has loaded."""
        if not rows and not rejected:
            self._raise_failure()
            return
        self._idle.acquire()
        self._raise_failure_releasing()
        self._chunks.put((rows, rejected))

    def _run(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            try:
                self._load(*chunk)
            except BaseException as exc:  # handed to the sync's thread
                self._error = exc
            finally:
                self._idle.release()

    def _raise_failure_releasing(self) -> None:
        if self._error is not None:
            self._idle.release()
            raise self._error

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error
