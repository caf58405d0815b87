"""Splitting an id range into windows for parallel keyset readers."""

from __future__ import annotations

import pytest
from connectwise.paging import id_windows


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
