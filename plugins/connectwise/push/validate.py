"""Check an outbox row before anything is sent: every problem of the row in one message."""

from __future__ import annotations

from typing import Any

from connectwise.emails import email_problem
from connectwise.staging.outbox import RowError

Row = dict[str, Any]


class RowChecks:
    """Collects a row's problems; :meth:`raise_if_any` fails the row with all of them."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, problem: str) -> None:
        """Record one problem."""
        self.problems.append(problem)

    def require(self, row: Row, column: str, why: str = "") -> None:
        """Check that the column has a value."""
        if row.get(column) in (None, ""):
            self.add(f"{column} is required{f' ({why})' if why else ''}")

    def max_length(self, row: Row, column: str, limit: int) -> None:
        """Check that a text column fits ConnectWise's limit (API facts)."""
        value = row.get(column)
        if isinstance(value, str) and len(value) > limit:
            self.add(f"{column} has {len(value)} characters; ConnectWise allows at most {limit}")

    def one_of(self, row: Row, *columns: str) -> None:
        """Check that at least one of the columns has a value."""
        if all(row.get(column) in (None, "") for column in columns):
            self.add(f"give {' or '.join(columns)}")

    def email(self, row: Row, column: str) -> None:
        """Check that an email is valid (the quality gate's rule) and fits a communication item."""
        value = row.get(column)
        if value in (None, ""):
            return
        problem = email_problem(value)
        if problem:
            self.add(f"{column} {value!r} is not a valid e-mail address: {problem}")
        else:
            self.max_length(row, column, 250)

    def positive(self, row: Row, column: str, *, allow_zero: bool = False) -> None:
        """Check that a number is above zero (or zero, when allowed)."""
        value = row.get(column)
        if value is None or (value < 0 if allow_zero else value <= 0):
            self.add(f"{column} must be {'zero or more' if allow_zero else 'above zero'}")

    def raise_if_any(self, prefix: str = "") -> None:
        """Fail the row with every problem found.

        Raises:
            RowError: at least one problem was recorded.
        """
        if self.problems:
            raise RowError(f"{prefix}{'; '.join(self.problems)}")
