"""The Issues page's data: open quarantine by problem, with examples, the fix and Re-process.

Grouping rule (``staging/issues.py`` runs it in SQL): a group is one entity, one check (or set
of checks) and one *problem*, the reason without the record's own values. The check that
failed writes the problem beside the reason (``quality/checks.py``), so
``email 'ada@x' is not a valid e-mail address: ...`` and ``email 'bob@' ...`` are both
``email is not a valid e-mail address`` and ``company_id 404 does not match ...`` is
``company_id does not match any staged companies record``: one group each, whatever the ids or
addresses. A value the mapping lacks is the problem itself, so
``status 'Pending Review' is not mapped by opportunity_status_map`` and
``status 'On Hold' ...`` are two groups (adding one value to the map fixes exactly its group).
A record failing several checks is grouped by all its problems together. Rows quarantined
before problems were recorded are grouped by their reason.

Re-process is a manual sync in re-map mode of the group's entity (:func:`reprocess_conf`):
it maps the staged records and the quarantined ones again with the current mapping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from connectwise.entities import REGISTRY, Registry
from connectwise.mapping.transforms import value_at
from connectwise.quality.checks import Check, Fix
from connectwise.quality.suites import checks_for
from connectwise.staging.issues import QuarantinedRecord, QuarantineGroup, open_quarantine_groups

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

REPROCESS_DAG_ID = "connectwise_manual_sync"
PROBLEM_SEPARATOR = "; "  # how the gate joins the problems of a record failing several checks

TYPE_FIX = Fix(
    "Change the column's type in the mapping file (docs/mapping.md), then press Re-process; "
    "or correct the value in ConnectWise, and the next sync picks the record up.",
    True,
)
MALFORMED_RECORD_FIX = Fix(
    "ConnectWise sent a record without a usable id or lastUpdated: correct the record in "
    "ConnectWise; the next sync picks it up (Re-process will not help).",
    False,
)
CALLBACK_FIX = Fix(
    "The change a callback announced could not be applied (the reason says why). Run a manual "
    "sync of this entity in mode 'Full re-sync' to read the record again; Re-process will not "
    "help, as the delivery carried no record.",
    False,
)
UNKNOWN_FIX = Fix(
    "Correct the record in ConnectWise (the next sync picks it up) or the mapping file "
    "(then press Re-process), as the reason says.",
    True,
)


@dataclass(frozen=True)
class IssueExample:
    """One quarantined record of a group, as the page lists it."""

    record_id: int | None
    record_key: str  # the id as text, or "hash:..." for a record without a usable id
    name: str | None  # taken from the payload: name, first and last name, identifier, ...
    value: str | None  # the value that failed (None: missing)
    reason: str


@dataclass(frozen=True)
class IssueGroup:
    """Open quarantine rows of one entity with the same problem, and what to do about them."""

    entity: str
    check: str
    summary: str  # the problem, one line
    count: int
    first_quarantined_at: datetime | None
    last_quarantined_at: datetime | None
    examples: tuple[IssueExample, ...]
    fix: str
    reprocess_helps: bool

    @property
    def reprocess_conf(self) -> dict[str, Any]:
        """The conf that re-processes this group's entity (:func:`reprocess_conf`)."""
        return reprocess_conf(self.entity)


def open_issues(
    engine: Engine, examples: int = 3, registry: Registry = REGISTRY
) -> list[IssueGroup]:
    """Return the open quarantine grouped by problem (see the module docstring), largest first.

    Raises:
        ValueError: ``examples`` is negative.
        sqlalchemy.exc.SQLAlchemyError: the staging database cannot be read.
    """
    return [_issue(group, registry) for group in open_quarantine_groups(engine, examples)]


def reprocess_conf(entity: str) -> dict[str, Any]:
    """Return the ``connectwise_manual_sync`` conf that re-processes ``entity``'s quarantine.

    Re-map mode calls no API: it applies the current mapping to the staged records and to the
    quarantined ones; records that pass land in staging and leave the quarantine.
    """
    return {"data_types": [entity], "mode": "remap"}


def fix_for(entity: str, check_name: str, problem: str, registry: Registry = REGISTRY) -> Fix:
    """Say what fixes a group's problem and whether Re-process can help.

    Each problem of the group (several when a record failed several checks) is matched to the
    check that wrote it; the fixes are joined, and Re-process helps only if it helps them all.
    """
    checks = checks_for(registry[entity]) if entity in registry.entities else []
    names = check_name.split(",")
    fixes = list(
        dict.fromkeys(_fix_of_one(part, names, checks) for part in problem.split(PROBLEM_SEPARATOR))
    )
    return Fix(" ".join(fix.text for fix in fixes), all(fix.reprocess_helps for fix in fixes))


def _fix_of_one(problem: str, names: list[str], checks: list[Check]) -> Fix:
    for check in checks:
        if check.name in names and check.describes(problem):
            return check.fix(problem)
    if "callback_delivery" in names:
        return CALLBACK_FIX
    if "mapping" in names:  # the mapper's own rejections (mapping/apply.py)
        return TYPE_FIX if problem.startswith("column ") else MALFORMED_RECORD_FIX
    return UNKNOWN_FIX


def display_name(payload: Any) -> str | None:
    """Name a quarantined record for a person: its name, person's name, identifier, ..."""
    if not isinstance(payload, dict):
        return None
    person = " ".join(
        str(payload[part]).strip() for part in ("firstName", "lastName") if payload.get(part)
    )
    for candidate in (
        payload.get("name"),
        person,
        payload.get("identifier"),
        payload.get("description"),
        value_at(payload, "product/identifier"),
    ):
        if candidate not in (None, ""):
            return str(candidate)
    return None


def _issue(group: QuarantineGroup, registry: Registry) -> IssueGroup:
    fix = fix_for(group.entity, group.check_name, group.problem, registry)
    return IssueGroup(
        entity=group.entity,
        check=group.check_name,
        summary=group.problem,
        count=group.count,
        first_quarantined_at=group.first_quarantined_at,
        last_quarantined_at=group.last_quarantined_at,
        examples=tuple(_example(record) for record in group.examples),
        fix=fix.text,
        reprocess_helps=fix.reprocess_helps,
    )


def _example(record: QuarantinedRecord) -> IssueExample:
    return IssueExample(
        record_id=record.record_id,
        record_key=record.record_key,
        name=display_name(record.payload),
        value=record.value,
        reason=record.reason,
    )
