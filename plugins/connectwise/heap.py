"""Keep Python's cyclic garbage collector off the long-lived heap during bulk work.

A warm task process holds ~360,000 collector-tracked objects (Airflow, Great Expectations,
pandas), and every full collection walks all of them. Decoding one 1,000-record page creates
~30,000 containers, enough to trigger collections: with the heap in view, JSON decoding took
three times as long (0.39 s against 0.13 s for ten pages). Freezing moves what exists into the
permanent generation for the duration; what the sync creates is collected as usual.

A process forked from a parent that froze its heap before forking (Airflow's LocalExecutor and
Celery workers do, so children share memory pages copy-on-write) starts frozen; that freeze is
left as it is when the sync ends, since unfreezing it would make collections touch, and so copy,
the shared pages. A task process is always such a fork of a warm worker (this module imported
before the fork) and exits after its task, so it leaves its heap frozen without asking: counting
the frozen objects (``gc.get_freeze_count``) walks all ~360,000 of them, ~9 % of a short task's
CPU. Only the process that imported this module (``airflow dags test``, tests) counts, and
unfreezes what it froze itself.

The collector's first generation also runs less often meanwhile (every 50,000 new containers
instead of 700): a decoded page's ~30,000 dicts and lists hold no cycles, yet each pass moved
them on towards the older generations, which are walked again and again while pages are in
flight; a large initial sync spent ~10 % of its time there. Garbage cycles are still found,
just in fewer, larger passes.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_unfreeze_at_end = False
_thresholds = gc.get_threshold()
BULK_FIRST_GENERATION = 50_000
_IMPORTED_IN = os.getpid()  # a task process is a fork of the worker that imported us


@contextmanager
def heap_frozen() -> Iterator[None]:
    """Freeze the existing heap and collect less often while the block runs (nestable)."""
    global _holders, _unfreeze_at_end, _thresholds
    with _lock:
        if _holders == 0:
            # In the importing process only: not frozen by a parent (and a task fork never is).
            _unfreeze_at_end = os.getpid() == _IMPORTED_IN and gc.get_freeze_count() == 0
            gc.freeze()
            _thresholds = gc.get_threshold()
            gc.set_threshold(BULK_FIRST_GENERATION, *_thresholds[1:])
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                gc.set_threshold(*_thresholds)
            if _holders == 0 and _unfreeze_at_end:
                gc.unfreeze()  # what became garbage meanwhile is collectable again
