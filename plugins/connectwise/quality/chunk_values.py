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
    memory. :meth:`column` gives pandas what it reads from the values themselves, as arrays
    where it can; :meth:`values` gives the values back for a check written in Python.
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
        for position in gaps:
            plain[position] = 0  # in the column's type: a float array reads it as 0.0
        self._values = _extended(self._values, plain)

    def column(self) -> Any:
        """Return the column as pandas reads the values, as an array where it can.

        int64, float64 (NaN where a number is missing) or objects; a column only checked for
        a value is float64, NaN where one is missing.
        """
        import numpy as np  # loaded with pandas, which reads the column

        if isinstance(self._values, array) and not self._missing:
            return np.frombuffer(self._values, dtype=_DTYPES[self._values.typecode])
        if isinstance(self._values, array) or self._presence_only:
            numbers = (
                np.ones(self.count)
                if self._presence_only
                else np.frombuffer(self._values, dtype=_DTYPES[self._values.typecode])
            )
            column = numbers.astype(np.float64)  # a copy: pandas reads [1, None] as floats
            column[np.frombuffer(self._missing, dtype=np.int64)] = np.nan
            return column
        return self.values()  # a list: text, booleans, mixed values

    def values(self) -> Values:
        """Return the column's values in order, each missing one as None (a typed array as is)."""
        if isinstance(self._values, array) and not self._missing:
            return self._values
        present: list[Any] = [True] * self.count if self._presence_only else list(self._values)
        for position in self._missing:
            present[position] = None
        return present


_DTYPES = {"q": "int64", "d": "float64"}


def _plain(value: Any) -> Any:
    # Money is a Decimal; pandas would keep it as objects, which GX's ranges do not compare.
    return float(value) if type(value) is Decimal else value


def _is_missing(value: Any) -> bool:
    """Tell whether pandas reads ``value`` as missing: None, or NaN (not equal to itself)."""
    return value is None or (type(value) is float and value != value)


def _extended(values: Values, new: list[Any]) -> Values:
    """Append ``new`` to a column's values: numbers in a typed array while they fit one.

    Whole numbers go in 64-bit ints; once a float comes, all go in floats, as pandas reads a
    list of both. Anything else (text, booleans, ints beyond 64 bits) turns the column back
    into a list of the values, exactly as they were.
    """
    if isinstance(values, list) and values:
        values.extend(new)
        return values
    current = values.typecode if isinstance(values, array) else None
    kind = _number_kind(new)
    if kind is None:
        values = values.tolist() if isinstance(values, array) else values
        values.extend(new)
        return values
    if current is None:
        return array(kind, new)
    if current == "q" and kind == "q":
        values.extend(new)
        return values
    floats = values if current == "d" else array("d", values)
    floats.extend(new)
    return floats


def _number_kind(values: list[Any]) -> str | None:
    """Return "q" for 64-bit ints, "d" for ints and floats a double holds, else None."""
    if all(type(value) is int and -(2**63) <= value < 2**63 for value in values):
        return "q"
    if all(type(value) is float or (type(value) is int and abs(value) < 2**63) for value in values):
        return "d"
    return None
