"""The sync's chunk loader: chunks load in order, inline or on threads; a failure stops them."""

from __future__ import annotations

import threading
import time

import pytest
from connectwise.chunk_loader import ChunkLoader
from connectwise.spilled_chunk import SpilledChunk


def submit(loader: ChunkLoader, *ids: int) -> None:
    """Hand over a chunk of rows with ``ids`` (as the sync's last chunk is)."""
    loader.add([{"id": number, "raw": "{}"} for number in ids], [])
    loader.flush()


def ids_of(chunk: SpilledChunk) -> list[object]:
    """The ids of the chunk's rows, then its rejections, as the load reads them back."""
    found: list[object] = []
    for rows, rejected in chunk.parts():
        found += [row["id"] for row in rows] + rejected
    return found


def test_chunks_load_in_order_on_another_thread() -> None:
    loaded: list[tuple[list[int], str]] = []

    def load(chunk) -> None:
        time.sleep(0.01)  # slower than the submitter: submit must wait, not reorder
        loaded.append((ids_of(chunk), threading.current_thread().name))

    with ChunkLoader(load) as loader:
        for start in range(0, 50, 10):
            submit(loader, *range(start, start + 10))

    assert [ids for ids, _ in loaded] == [list(range(s, s + 10)) for s in range(0, 50, 10)]
    assert {name for _, name in loaded} == {"cw-load-0"}


def refusing_chunk_2(loaded: list[int]):
    """A load that records each chunk's first id and fails on chunk 2."""

    def load(chunk) -> None:
        first = ids_of(chunk)[0]
        if first == 2:
            raise RuntimeError("staging refused chunk 2")
        loaded.append(first)

    return load


def test_a_failed_load_stops_the_later_chunks_and_reaches_the_sync() -> None:
    loaded: list[int] = []
    load = refusing_chunk_2(loaded)

    with pytest.raises(RuntimeError, match="chunk 2"), ChunkLoader(load) as loader:
        for number in range(1, 6):
            submit(loader, number)
            time.sleep(0.02)  # let the loader reach the failure before the next submit

    assert loaded == [1]


def test_a_chunk_handed_over_before_the_read_failed_is_still_loaded() -> None:
    loaded: list[int] = []

    with pytest.raises(ConnectionError), ChunkLoader(lambda _: loaded.append(1)) as loader:
        submit(loader, 1)
        raise ConnectionError("the API went away mid-read")

    assert loaded == [1]


def test_empty_chunks_are_not_loaded() -> None:
    calls: list[int] = []
    with ChunkLoader(lambda chunk: calls.append(chunk.rows)) as loader:
        loader.add([], [])
        loader.flush()
    assert calls == []


def test_a_full_chunk_waits_until_the_previous_chunk_has_loaded() -> None:
    # At most two chunks exist: the one loading and the one being mapped (memory).
    release = threading.Event()
    with ChunkLoader(lambda _: release.wait(5)) as loader:
        submit(loader, 1)
        handed_over = threading.Event()

        def submit_second() -> None:
            submit(loader, 2)
            handed_over.set()

        submitter = threading.Thread(target=submit_second)
        submitter.start()
        assert not handed_over.wait(0.2)  # chunk 1 still loading: chunk 2 is not taken
        release.set()
        assert handed_over.wait(5)
        submitter.join()


def test_several_loaders_load_chunks_at_the_same_time() -> None:
    together = threading.Barrier(2, timeout=5)  # broken unless two loads wait at once
    loaded: list[int] = []
    lock = threading.Lock()

    def load(chunk) -> None:
        together.wait()
        with lock:
            loaded.append(ids_of(chunk)[0])

    with ChunkLoader(load, loaders=2) as loader:
        for number in range(1, 5):
            submit(loader, number)

    assert sorted(loaded) == [1, 2, 3, 4]


def test_with_several_loaders_a_failure_still_stops_the_sync() -> None:
    loaded: list[int] = []
    load = refusing_chunk_2(loaded)

    with pytest.raises(RuntimeError, match="chunk 2"), ChunkLoader(load, loaders=2) as loader:
        for number in range(1, 9):
            submit(loader, number)
            time.sleep(0.02)

    assert 2 not in loaded and max(loaded) < 8  # chunks after the failure was seen never load


def test_rows_gather_into_chunks_closed_at_their_rows_or_their_bytes() -> None:
    loaded: list[list[int]] = []

    def load(chunk) -> None:
        loaded.append(ids_of(chunk))

    narrow = [{"id": n, "raw": "x" * 10} for n in range(5)]
    wide = [{"id": n, "raw": "x" * 60} for n in range(10, 14)]
    parts = [(narrow[:2], ["rejected-1"]), (narrow[2:], []), (wide[:1], []), (wide[1:2], [])]
    with ChunkLoader(load, max_rows=3, max_bytes=100) as loader:
        for rows, rejected in parts:  # 5 rows: past max_rows; then 120 bytes: past max_bytes
            loader.add(rows, rejected)
            loader.flush_if_full()
        loader.add(wide[2:], [])
        loader.flush_if_full()  # 2 rows, 120 bytes: handed over at the end only
        loader.flush()
        loader.flush()  # nothing gathered: nothing to load

    assert loaded == [[0, 1, "rejected-1", 2, 3, 4], [10, 11], [12, 13]]


def test_without_loader_threads_a_full_chunk_loads_inline_at_the_hand_over() -> None:
    loaded: list[tuple[list[object], str]] = []

    def load(chunk) -> None:
        loaded.append((ids_of(chunk), threading.current_thread().name))

    with ChunkLoader(load, loaders=0, max_rows=2) as loader:
        loader.add([{"id": 1, "raw": "{}"}], [])
        loader.flush_if_full()
        assert loaded == []  # one row of two: still gathering
        loader.add([{"id": 2, "raw": "{}"}], [])
        assert loaded == []  # adding alone never loads: the caller still holds the part
        loader.flush_if_full()
        assert loaded == [([1, 2], threading.current_thread().name)]
        submit(loader, 3)

    assert [ids for ids, _ in loaded] == [[1, 2], [3]]


def test_without_loader_threads_a_failed_load_raises_at_once() -> None:
    loaded: list[int] = []
    with ChunkLoader(refusing_chunk_2(loaded), loaders=0) as loader:
        submit(loader, 1)
        with pytest.raises(RuntimeError, match="chunk 2"):
            submit(loader, 2)
    assert loaded == [1]
