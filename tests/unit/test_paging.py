"""Parallel keyset readers: splitting an id range into windows, and holding few pages."""

from __future__ import annotations

import pytest
from connectwise.client.paging import id_windows


def ids_in(window: tuple[int, int | None], beyond: int) -> set[int]:
    """Ids a reader of ``window`` pages (``after < id <= up_to``), up to ``beyond``."""
    after, up_to = window
    return set(range(after + 1, (up_to if up_to is not None else beyond) + 1))


@pytest.mark.parametrize(
    ("first", "last", "parts"),
    [(1, 10, 3), (1, 1000, 4), (17, 9_999, 7), (5, 5, 3), (1, 2, 4), (100, 200, 1)],
)
def test_id_windows_cover_the_range_without_gaps_or_overlap(
    first: int, last: int, parts: int
) -> None:
    windows = id_windows(first, last, parts)
    beyond = last + 50  # records created while reading

    covered = [ids_in(window, beyond) for window in windows]

    assert sum(len(ids) for ids in covered) == len(set().union(*covered))  # no overlap
    assert set().union(*covered) == set(range(first, beyond + 1))  # no gap


def test_id_windows_leave_only_the_last_window_open() -> None:
    windows = id_windows(1, 1000, 4)
    assert windows[-1][1] is None
    assert all(up_to is not None for _, up_to in windows[:-1])


def test_id_windows_start_just_before_the_first_id() -> None:
    assert id_windows(50, 99, 2)[0][0] == 49


def test_id_windows_are_contiguous() -> None:
    windows = id_windows(1, 100, 5)
    assert all(windows[index][1] == windows[index + 1][0] for index in range(len(windows) - 1))


def test_id_windows_split_evenly() -> None:
    assert id_windows(1, 12, 3) == [(0, 4), (4, 8), (8, None)]


@pytest.mark.parametrize("parts", [0, -3])
def test_id_windows_treat_fewer_than_one_part_as_one(parts: int) -> None:
    assert id_windows(1, 10, parts) == [(0, None)]


def test_interleave_holds_at_most_depth_pages_with_a_slow_consumer() -> None:
    import threading
    import time

    from connectwise.client.paging import interleave

    lock = threading.Lock()
    alive = 0  # pages fetched and not yet finished by the consumer
    most = 0

    def source(pages: int):
        nonlocal alive, most
        for number in range(pages):
            with lock:
                alive += 1
                most = max(most, alive)
            yield [{"id": number}]

    received = 0
    for _page in interleave([source(20) for _ in range(4)], depth=5):
        time.sleep(0.002)  # slower than the readers: without slots they would run ahead
        with lock:
            alive -= 1
        received += 1
    assert received == 80
    assert most <= 5


def test_interleave_stops_its_readers_when_the_consumer_stops_early() -> None:
    import threading

    from connectwise.client.paging import interleave

    def endless():
        number = 0
        while True:
            number += 1
            yield [{"id": number}]

    pages = interleave([endless(), endless()], depth=3)
    assert next(pages) and next(pages)
    pages.close()  # returns once every reader has said it is done
    readers = [t for t in threading.enumerate() if t.name.startswith("cw-pages-")]
    for reader in readers:
        reader.join(timeout=5)
    assert not any(reader.is_alive() for reader in readers)


def test_interleave_hands_a_readers_error_to_the_consumer() -> None:
    from connectwise.client.paging import interleave

    def failing():
        yield [{"id": 1}]
        raise RuntimeError("page 2 failed")

    with pytest.raises(RuntimeError, match="page 2 failed"):
        list(interleave([failing()], depth=2))
