"""The long-lived heap is frozen out of the garbage collector only while a sync runs."""

from __future__ import annotations

import gc
import multiprocessing
import threading
from typing import Any

from connectwise.heap import BULK_FIRST_GENERATION, heap_frozen


def test_the_heap_is_frozen_inside_and_released_after() -> None:
    assert gc.get_freeze_count() == 0
    with heap_frozen():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_nested_and_concurrent_uses_release_only_when_the_last_ends() -> None:
    inside = threading.Event()
    leave = threading.Event()

    def other_sync() -> None:
        with heap_frozen():
            inside.set()
            leave.wait(5)

    worker = threading.Thread(target=other_sync)
    with heap_frozen():
        worker.start()
        assert inside.wait(5)
    assert gc.get_freeze_count() > 0  # the other sync still runs: still frozen
    leave.set()
    worker.join()
    assert gc.get_freeze_count() == 0


def test_garbage_made_during_a_sync_is_still_collected() -> None:
    with heap_frozen():
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1


def test_a_heap_frozen_by_the_parent_process_stays_frozen() -> None:
    # LocalExecutor and Celery freeze before forking so children share pages copy-on-write.
    # The count itself may shrink as frozen objects die (other threads, the import system),
    # so the test asks the question that matters: is anything still frozen afterwards?
    gc.freeze()
    try:
        assert gc.get_freeze_count() > 0
        with heap_frozen():
            pass
        assert gc.get_freeze_count() > 0  # 0 if the sync had unfrozen the parent's heap
    finally:
        gc.unfreeze()


def test_young_objects_are_collected_less_often_inside_and_as_before_after() -> None:
    before = gc.get_threshold()
    with heap_frozen():
        assert gc.get_threshold() == (BULK_FIRST_GENERATION, *before[1:])
        with heap_frozen():
            pass
        assert gc.get_threshold()[0] == BULK_FIRST_GENERATION  # the outer sync still runs
    assert gc.get_threshold() == before


def _sync_in_a_forked_task(report: Any) -> None:
    with heap_frozen():
        pass
    report.send(gc.get_freeze_count() > 0)


def test_a_task_process_forked_from_the_worker_leaves_its_heap_frozen() -> None:
    # The worker imported this module and froze nothing; its forked task process freezes for
    # the sync and exits frozen, without walking the frozen objects to count them.
    assert gc.get_freeze_count() == 0
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    task = context.Process(target=_sync_in_a_forked_task, args=(sending,))
    task.start()
    assert receiving.poll(30) and receiving.recv() is True
    task.join(30)
    assert task.exitcode == 0
    assert gc.get_freeze_count() == 0  # the worker's own heap was never touched
