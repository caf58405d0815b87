"""One column's values over a chunk, kept as compactly as the column's checks allow."""

from __future__ import annotations

from array import array
from decimal import Decimal
from typing import Any

Values = list[Any] | array


class ColumnValues:
    """A checked column's values over a chunk of thousands of rows, gathered part by part.

    Numbers stay in a typed array while they fit one (8 bytes a value where a Python number
    takes ~32); a missing value (None, NaN) is a position of its own, so a column of ids with
    a few gaps stays typed. A column only checked for having a value (``presence_only``)
    keeps nothing but where values are missing: a chunk's names were most of the checks'
    memory. :meth:`values` gives back what pandas (and a derived check) reads the same as the
    values themselves: numbers as int64 or float64, a missing value as None.
    """

    def __init__(self, *, presence_only: bool = False) -> None:
        self.count = 0
        self._presence_only = presence_only
        self._missing = array("q")  # positions of the missing values, in order
        self._values: Values = []  # a missing value's place holds 0

    def extend(self, values: list[Any]) -> None:
        """Append the next values of the column (Decimals are read as floats)."""
        plain = [_plain(value) for value in values]
        gaps = [position for position, value in enumerate(plain) if _is_missing(value)]
        self._missing.extend(self.count + position for position in gaps)
        self.count += len(plain)
        if self._presence_only:
            return
        filler = 0.0 if _holds_floats(self._values, plain) else 0  # keeps the column typed
        for position in gaps:
            plain[position] = filler
        self._values = _extended(self._values, plain)

    def values(self) -> Values:
        """Return the column's values in order, each missing one as None."""
        if self._presence_only:
            present: list[Any] = [True] * self.count
        elif not self._missing:
            return self._values
        else:
            present = list(self._values)
        for position in self._missing:
            present[position] = None
        return present


def _plain(value: Any) -> Any:
    # Money is a Decimal; pandas would keep it as objects, which GX's ranges do not compare.
    return float(value) if type(value) is Decimal else value


def _is_missing(value: Any) -> bool:
    """Tell whether pandas reads ``value`` as missing: None, or NaN (not equal to itself)."""
    return value is None or (type(value) is float and value != value)


def _holds_floats(values: Values, new: list[Any]) -> bool:
    if isinstance(values, array):
        return values.typecode == "d"
    return any(type(value) is float for value in new)


def _extended(values: Values, new: list[Any]) -> Values:
    """Append ``new`` to a column's values: numbers in a typed array while they fit one.

    pandas reads an array and a list of the same numbers into the same int64 or float64
    column. A value that does not fit turns the column back into a list, exactly as it was.
    """
    if isinstance(values, array):
        if _fits(values.typecode, new):
            values.extend(new)
            return values
        values = values.tolist()
    elif not values:
        for typecode in ("q", "d"):
            if new and _fits(typecode, new):
                return array(typecode, new)
    values.extend(new)
    return values


def _fits(typecode: str, values: list[Any]) -> bool:
    """Tell whether ``values`` go in an array of ``typecode``: 64-bit ints, or floats."""
    if typecode == "q":
        return all(type(value) is int and -(2**63) <= value < 2**63 for value in values)
    return all(type(value) is float for value in values)
