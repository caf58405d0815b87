"""A chunk's checked column values: compact, and read back exactly as the values were."""

from __future__ import annotations

import math
import tracemalloc
from array import array
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from connectwise.quality.chunk_values import ColumnValues


def gathered(parts: list[list[Any]], *, presence_only: bool = False) -> ColumnValues:
    column = ColumnValues(presence_only=presence_only)
    for part in parts:
        column.extend(part)
    return column


def same_column(got: Any, expected: list[Any]) -> None:
    """pandas reads ``got`` into the column it reads from the plain list ``expected``."""
    pd.testing.assert_series_equal(pd.Series(got), pd.Series(expected))


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ([[1, 2], [3]], [1, 2, 3]),
        ([[1, None], [3]], [1, None, 3]),
        ([[None], [2, 3]], [None, 2, 3]),
        ([[1.5, None], [float("nan"), 2.0]], [1.5, None, None, 2.0]),
        ([[Decimal("1.25")], [None, Decimal("-3")]], [1.25, None, -3.0]),
        ([[1, 2], [2.5]], [1, 2, 2.5]),
        ([[1], ["a", None]], [1, "a", None]),
        ([[2**70], [1]], [2**70, 1]),
        ([[True, False], [None]], [True, False, None]),
    ],
    ids=[
        "ints",
        "ints with a gap",
        "a gap first",
        "floats, None and NaN",
        "money",
        "ints then a float",
        "mixed",
        "beyond 64 bits",
        "booleans",
    ],
)
def test_values_read_back_as_pandas_reads_the_plain_values(
    parts: list[list[Any]], expected: list[Any]
) -> None:
    column = gathered(parts)
    same_column(column.column(), expected)
    assert list(column.values()) == expected


def test_numbers_with_gaps_stay_typed() -> None:
    column = gathered([[1, None, 3], [4, None]])
    assert isinstance(column._values, array) and column._values.typecode == "q"
    assert list(column.values()) == [1, None, 3, 4, None]


def test_whole_numbers_then_floats_become_floats_as_pandas_reads_them() -> None:
    column = gathered([[None, None], [2.5, 3], [4]])  # a first part with no price at all
    assert isinstance(column._values, array) and column._values.typecode == "d"
    same_column(column.column(), [None, None, 2.5, 3, 4])
    assert list(column.values()) == [None, None, 2.5, 3, 4]


def test_a_full_typed_column_is_read_in_place() -> None:
    column = gathered([list(range(5000))])
    assert column.column().base is not None  # a view of the array, not a copy
    assert column.column().dtype == "int64"


def test_a_column_checked_only_for_a_value_keeps_where_values_are_missing() -> None:
    names = [f"Opportunity number {n} with a long name" for n in range(5000)]
    parts = [[*names[:2500], None], [float("nan"), *names[2500:]]]
    tracemalloc.start()
    try:
        column = gathered(parts, presence_only=True)
        held, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    values = column.values()
    assert column.count == 5002
    assert values[2500] is None and values[2501] is None
    assert all(value is True for n, value in enumerate(values) if n not in (2500, 2501))
    assert held < 4096  # two positions, not 5,000 names
    missing = [n in (2500, 2501) for n in range(5002)]
    assert pd.Series(column.column()).isna().tolist() == missing


def test_nan_is_missing_like_none() -> None:
    values = gathered([[float("nan"), "x"]], presence_only=True).values()
    assert values[0] is None and values[1] is True
    assert not math.isnan(gathered([[1.0]]).values()[0])
