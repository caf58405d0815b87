"""Quality checks declared as data; each knows its GX expectation and how to explain a failure.

Great Expectations is imported only when an expectation is built (``quality.library``), so
declaring suites costs nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connectwise.emails import email_problem
from connectwise.quality.library import expectations

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation

    from connectwise.mapping.models import MappingConfig


class Check(ABC):
    """One rule on one column of a mapped chunk."""

    column: str
    name: str

    @abstractmethod
    def explain(self, value: Any) -> str:
        """Say why ``value`` failed, for the quarantine table."""


class ColumnCheck(Check):
    """A rule Great Expectations checks on the column itself."""

    @abstractmethod
    def expectation(self) -> Expectation:
        """Build the Great Expectations expectation for this rule (the same for every run)."""


@dataclass(frozen=True)
class CheckContext:
    """Run-time facts some checks need: the mapping and the ids already staged."""

    mapping: MappingConfig
    known_ids: dict[str, set[int]]


@dataclass(frozen=True)
class NotNull(ColumnCheck):
    """The column must have a value."""

    column: str
    name: str = "not_null"

    def expectation(self) -> Expectation:  # noqa: D102
        return expectations().ExpectColumnValuesToNotBeNull(column=self.column)

    def explain(self, _value: Any) -> str:  # noqa: D102
        return f"{self.column} is missing"


@dataclass(frozen=True)
class Unique(ColumnCheck):
    """No two rows of a chunk share a value."""

    column: str
    name: str = "unique"

    def expectation(self) -> Expectation:  # noqa: D102
        return expectations().ExpectColumnValuesToBeUnique(column=self.column)

    def explain(self, value: Any) -> str:  # noqa: D102
        return f"{self.column} {value!r} appears more than once in the same page"


@dataclass(frozen=True)
class NonNegative(ColumnCheck):
    """Numbers, where present, are zero or more."""

    column: str
    name: str = "non_negative"

    def expectation(self) -> Expectation:  # noqa: D102
        return expectations().ExpectColumnValuesToBeBetween(column=self.column, min_value=0)

    def explain(self, value: Any) -> str:  # noqa: D102
        return f"{self.column} {value!r} is negative"


class DerivedCheck(Check):
    """A rule evaluated in Python per row; the gate has GX check all of them as one column.

    Used where GX's own expectation would be slow or would skip nulls: an id set of thousands
    makes GX's configuration handling cost a second per chunk, and ``ExpectColumnValuesToBeInSet``
    lets a missing value pass.
    """

    @abstractmethod
    def passes(self, value: Any, context: CheckContext) -> bool:
        """Tell whether ``value`` satisfies the rule."""


@dataclass(frozen=True)
class InMappedSet(DerivedCheck):
    """Values come from a set the mapping defines (e.g. Open/Won/Lost); missing is a failure."""

    column: str
    allowed: Callable[[MappingConfig], Sequence[str]]
    setting: str
    name: str = "mapped_value"

    def passes(self, value: Any, context: CheckContext) -> bool:  # noqa: D102
        return value is not None and value in self.allowed(context.mapping)

    def explain(self, value: Any) -> str:  # noqa: D102
        if value is None:
            return f"{self.column} has no mapped value: add the ConnectWise value to {self.setting}"
        return f"{self.column} {value!r} is not a value of {self.setting}"


@dataclass(frozen=True)
class References(DerivedCheck):
    """Ids, where present, exist in an entity synced earlier."""

    column: str
    entity: str
    name: str = "reference"

    def passes(self, value: Any, context: CheckContext) -> bool:  # noqa: D102
        return value is None or value in context.known_ids.get(self.entity, set())

    def explain(self, value: Any) -> str:  # noqa: D102
        return f"{self.column} {value!r} does not match any staged {self.entity} record"


@dataclass(frozen=True)
class ValidEmail(DerivedCheck):
    """E-mail addresses, where present, are valid by the write-back's rule too (``emails``)."""

    column: str
    name: str = "format"  # the check_name meta_quarantine has always recorded for e-mails

    def passes(self, value: Any, _context: CheckContext) -> bool:  # noqa: D102
        return value is None or email_problem(value) is None

    def explain(self, value: Any) -> str:  # noqa: D102
        return f"{self.column} {value!r} is not a valid e-mail address: {email_problem(value)}"
