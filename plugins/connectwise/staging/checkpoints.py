"""Copy an SQLite staging file's write-ahead log into the database beside a sync, not in it.

In WAL mode a commit that finds the log past ``wal_autocheckpoint`` copies the log into the
database file and syncs it before returning: in a large initial sync that took ~0.5 s of the
loading thread's ~3 s, spent while the sync waited for the chunk. A thread of our own with its
own connection runs passive checkpoints during the sync instead; SQLite does that work without
holding Python's GIL, so it uses the core the sync's own threads leave idle. A passive
checkpoint never blocks the loading connection, and while one runs the commit's own checkpoint
finds the checkpoint lock taken and skips it. What the thread does not copy, the next automatic
checkpoint copies, as before: the thread only moves work, so a failing checkpoint is logged
and the sync goes on.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

CHECKPOINT_INTERVAL_SECONDS = 0.25


@contextmanager
def background_checkpoints(
    engine: Engine, interval: float = CHECKPOINT_INTERVAL_SECONDS
) -> Iterator[None]:
    """Run passive checkpoints of ``engine``'s SQLite file every ``interval`` seconds.

    Does nothing for PostgreSQL or an in-memory SQLite database.
    """
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:" or path.startswith("file:"):
        yield
        return
    stop = threading.Event()
    thread = threading.Thread(
        target=_checkpoint_until, args=(path, stop, interval), name="cw-checkpoint", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _checkpoint_until(path: str, stop: threading.Event, interval: float) -> None:
    try:
        connection = sqlite3.connect(path, timeout=0, isolation_level=None)
    except sqlite3.Error as exc:
        log.warning("Background checkpoints of %s are off: %s", path, exc)
        return
    try:
        while not stop.wait(interval):
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    except sqlite3.Error as exc:  # the commits' own checkpoints carry on
        log.warning("Background checkpoints of %s stopped: %s", path, exc)
    finally:
        connection.close()
