"""Quality checks declared as data; each explains a failure and says how an operator fixes it.

Great Expectations is imported only when an expectation is built (``quality.library``), so
declaring suites costs nothing.

A failure is a :class:`Finding`: the full ``reason`` stored with the quarantined record, the
``problem`` (the same without the record's own value: records with one problem are listed
together on the Issues page) and the ``value`` that failed. A check's :meth:`Check.fix` tells
what to do about its problems and whether Re-process (a re-map) can help.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connectwise.emails import email_problem
from connectwise.quality.library import expectations

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation

    from connectwise.mapping.models import MappingConfig

Row = dict[str, Any]
NEXT_SYNC = "the next sync picks the record up (Re-process will not help)"


@dataclass(frozen=True)
class Finding:
    """Why one row failed one check."""

    reason: str  # the full sentence, as meta_quarantine.reason keeps it
    problem: str  # the reason without the record's own value (ids, e-mail addresses)
    value: Any  # the value that failed


@dataclass(frozen=True)
class Fix:
    """What the operator should do about a problem, and whether Re-process can help."""

    text: str
    reprocess_helps: bool


@dataclass(frozen=True)
class CheckContext:
    """Run-time facts some checks need: the mapping and the ids already staged.

    ``known_ids`` gives an entity's staged ids outright (tests, small sets); otherwise
    ``lookup`` answers which of some ids are staged, a chunk's ids at a time, so a sync
    never holds every id of the tables it references.
    """

    mapping: MappingConfig
    known_ids: Mapping[str, Collection[int]] = field(default_factory=dict)
    lookup: Callable[[str, set[int]], Collection[int]] | None = None

    def known(self, entity: str, ids: set[int]) -> Collection[int]:
        """Return staged ids of ``entity``: all of them, or at least those among ``ids``."""
        if entity in self.known_ids:
            return self.known_ids[entity]
        return self.lookup(entity, ids) if self.lookup is not None and ids else set()


class Check(ABC):
    """One rule on one column of a mapped chunk."""

    column: str
    name: str

    def finding(self, row: Row, _context: CheckContext) -> Finding:
        """Say why ``row`` failed this check."""
        value = row.get(self.column)
        return Finding(self.explain(value), self.problem(), value)

    @abstractmethod
    def explain(self, value: Any) -> str:
        """Say why ``value`` failed, for the quarantine table."""

    @abstractmethod
    def problem(self) -> str:
        """Say what failed without the record's own value."""

    def describes(self, problem: str) -> bool:
        """Tell whether ``problem`` (one failure of a stored quarantine row) is this check's."""
        return problem == self.problem()

    @abstractmethod
    def fix(self, problem: str) -> Fix:
        """Tell the operator what to do about ``problem`` (one this check :meth:`describes`)."""


class ColumnCheck(Check):
    """A rule Great Expectations checks on the column itself."""

    @abstractmethod
    def expectation(self) -> Expectation:
        """Build the Great Expectations expectation for this rule (the same for every run)."""


@dataclass(frozen=True)
class NotNull(ColumnCheck):
    """The column must have a value."""

    column: str
    name: str = "not_null"

    def expectation(self) -> Expectation:  # noqa: D102
        return expectations().ExpectColumnValuesToNotBeNull(column=self.column)

    def explain(self, _value: Any) -> str:  # noqa: D102
        return self.problem()

    def problem(self) -> str:  # noqa: D102
        return f"{self.column} is missing"

    def fix(self, _problem: str) -> Fix:  # noqa: D102
        return Fix(f"Fill in the record's {self.column} in ConnectWise; {NEXT_SYNC}.", False)


@dataclass(frozen=True)
class Unique(ColumnCheck):
    """No two rows of a chunk share a value."""

    column: str
    name: str = "unique"

    def expectation(self) -> Expectation:  # noqa: D102
        return expectations().ExpectColumnValuesToBeUnique(column=self.column)

    def explain(self, value: Any) -> str:  # noqa: D102
        return f"{self.column} {value!r} appears more than once in the same page"

    def problem(self) -> str:  # noqa: D102
        return f"{self.column} appears more than once in the same page"

    def fix(self, _problem: str) -> Fix:  # noqa: D102
        return Fix(
            "ConnectWise returned the record twice in one read (it changed while pages were "
            "read): press Re-process to load the quarantined copy; the next sync reads it again "
            "anyway.",
            True,
        )


@dataclass(frozen=True)
class NonNegative(ColumnCheck):
    """Numbers, where present, are zero or more."""

    column: str
    name: str = "non_negative"

    def expectation(self) -> Expectation:  # noqa: D102
        return expectations().ExpectColumnValuesToBeBetween(column=self.column, min_value=0)

    def explain(self, value: Any) -> str:  # noqa: D102
        return f"{self.column} {value} is negative"  # a number, or money as written: -5.0000

    def problem(self) -> str:  # noqa: D102
        return f"{self.column} is negative"

    def fix(self, _problem: str) -> Fix:  # noqa: D102
        return Fix(f"Correct the negative {self.column} in ConnectWise; {NEXT_SYNC}.", False)


class DerivedCheck(Check):
    """A rule evaluated in Python per row; the gate has GX check all of them as one column.

    Used where GX's own expectation would be slow or would skip nulls: an id set of thousands
    makes GX's configuration handling cost a second per chunk, and ``ExpectColumnValuesToBeInSet``
    lets a missing value pass.
    """

    per_chunk = False  # True: decided for a whole chunk at once (:meth:`verdicts`)

    @abstractmethod
    def passes(self, value: Any, context: CheckContext) -> bool:
        """Tell whether ``value`` satisfies the rule."""

    def verdicts(self, values: Sequence[Any], context: CheckContext) -> list[bool]:
        """Tell, for each of ``values`` (a part of a chunk), whether it satisfies the rule."""
        return [self.passes(value, context) for value in values]


@dataclass(frozen=True)
class InMappedSet(DerivedCheck):
    """A value the mapping translates must come out of its map (e.g. Open/Won/Lost).

    ``setting`` names the map in the mapping file (``opportunity_status_map``); ``source``
    reads the ConnectWise value it translates from the raw record, so a failure names that
    value (``status 'Pending Review'``, its ``label`` and the value). Each unmapped value is a
    problem of its own: adding it to the map fixes every record that has it.
    """

    column: str
    setting: str
    label: str
    source: Callable[[Row], Any]
    allowed: Callable[[MappingConfig], Collection[str]]
    name: str = "mapped_value"

    def passes(self, value: Any, context: CheckContext) -> bool:  # noqa: D102
        return value is not None and value in self.allowed(context.mapping)

    def finding(self, row: Row, context: CheckContext) -> Finding:  # noqa: D102
        value = row.get(self.column)
        source = self.source(json.loads(row["raw"]))
        if source is None:
            return Finding(self.explain(None), self.problem(), None)
        if source not in getattr(context.mapping, self.setting):
            problem = f"{self.label} {source!r} is not mapped by {self.setting}"
            return Finding(f"{problem}: add it to the mapping file", problem, source)
        problem = f"{self.label} {source!r} maps to {value!r}, which {self.column} does not allow"
        allowed = ", ".join(self.allowed(context.mapping))
        return Finding(f"{problem} (allowed: {allowed}): correct {self.setting}", problem, source)

    def explain(self, _value: Any) -> str:  # noqa: D102
        return f"{self.problem()}, so {self.column} has no value"

    def problem(self) -> str:  # noqa: D102
        return f"{self.label} is missing"

    def describes(self, problem: str) -> bool:  # noqa: D102
        endings = (f" is not mapped by {self.setting}", f"which {self.column} does not allow")
        return problem == self.problem() or (
            problem.startswith(f"{self.label} ") and problem.endswith(endings)
        )

    def fix(self, problem: str) -> Fix:  # noqa: D102
        if problem == self.problem():
            return Fix(f"Set the record's {self.label} in ConnectWise; {NEXT_SYNC}.", False)
        return Fix(
            f"Add the ConnectWise value to {self.setting} in the mapping file "
            "(docs/mapping.md), then press Re-process.",
            True,
        )


@dataclass(frozen=True)
class References(DerivedCheck):
    """Ids, where present, exist in an entity synced earlier."""

    column: str
    entity: str
    name: str = "reference"
    per_chunk = True  # one lookup in staging for a chunk's ids, not one per part

    def passes(self, value: Any, context: CheckContext) -> bool:  # noqa: D102
        return self.verdicts([value], context)[0]

    def verdicts(self, values: Sequence[Any], context: CheckContext) -> list[bool]:
        """One lookup of the ids, not one per row."""
        known = context.known(self.entity, {value for value in values if value is not None})
        return [value is None or value in known for value in values]

    def explain(self, value: Any) -> str:  # noqa: D102
        return f"{self.column} {value!r} does not match any staged {self.entity} record"

    def problem(self) -> str:  # noqa: D102
        return f"{self.column} does not match any staged {self.entity} record"

    def fix(self, _problem: str) -> Fix:  # noqa: D102
        return Fix(
            f"Sync {self.entity} first (the record it points at is not staged), then press "
            f"Re-process. If the {self.entity} record is gone from ConnectWise, correct the "
            "reference there; the next sync picks it up.",
            True,
        )


@dataclass(frozen=True)
class ValidEmail(DerivedCheck):
    """E-mail addresses, where present, are valid by the write-back's rule too (``emails``)."""

    column: str
    name: str = "format"  # the check_name meta_quarantine has always recorded for e-mails

    def passes(self, value: Any, _context: CheckContext) -> bool:  # noqa: D102
        return value is None or email_problem(value) is None

    def explain(self, value: Any) -> str:  # noqa: D102
        return f"{self.column} {value!r} is not a valid e-mail address: {email_problem(value)}"

    def problem(self) -> str:  # noqa: D102
        return f"{self.column} is not a valid e-mail address"

    def fix(self, _problem: str) -> Fix:  # noqa: D102
        return Fix(f"Correct the e-mail address in ConnectWise; {NEXT_SYNC}.", False)
