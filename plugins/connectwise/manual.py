"""Validate the manual-sync form and turn it into a plan: which entities, in which mode."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connectwise.entities import REGISTRY, Registry
from connectwise.errors import ConnectWiseConfigError
from connectwise.values import parse_datetime

MODE_LABELS = {
    "incremental": "Changes since the last sync",
    "full": "Full re-sync",
    "remap": "Re-map only (no API calls)",
}
# Off unless asked: the incremental sync's daily reconciliation finds deletes anyway, and looking
# now lists every id of each chosen type (a request per 1,000 records).
FIND_DELETED_DEFAULT = False
GROUP_LABELS = {
    "companies": "Companies",
    "contacts": "Contacts",
    "categories": "Categories",
    "manufacturers": "Manufacturers",
    "products": "Products / catalog",
    "members": "Members",
    "opportunities": "Opportunities",
    "agreements": "Agreements",
}


def data_type_labels(registry: Registry = REGISTRY) -> dict[str, str]:
    """Entity name → form label, grouped the way the seeds name data types."""
    return {
        entity.name: f"{GROUP_LABELS.get(entity.group, entity.group.title())}: {entity.title}"
        for entity in registry
    }


@dataclass(frozen=True)
class ManualPlan:
    """What a manual run will do: selected entities, dependencies brought up to date first."""

    mode: str
    selected: tuple[str, ...]
    dependencies: tuple[str, ...]
    changed_since: datetime | None
    find_deleted: bool = False  # reconcile deletes of the selected entities afterwards

    def mode_of(self, entity_name: str) -> str | None:
        """Return the mode to run an entity in, or None when the plan leaves it out."""
        if entity_name in self.selected:
            return self.mode
        if entity_name in self.dependencies:
            return "incremental"
        return None

    def as_dict(self) -> dict[str, Any]:
        """Plain values for XCom."""
        return {
            "mode": self.mode,
            "selected": list(self.selected),
            "dependencies": list(self.dependencies),
            "changed_since": self.changed_since.isoformat() if self.changed_since else None,
            "find_deleted": self.find_deleted,
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ManualPlan:
        """Rebuild a plan from :meth:`as_dict`."""
        since = values.get("changed_since")
        return cls(
            mode=values["mode"],
            selected=tuple(values["selected"]),
            dependencies=tuple(values["dependencies"]),
            changed_since=datetime.fromisoformat(since) if since else None,
            find_deleted=bool(values.get("find_deleted")),
        )

    def planned(self, registry: Registry = REGISTRY) -> list[str]:
        """Return the entities this run syncs, in the registry's order."""
        return [entity.name for entity in registry if self.mode_of(entity.name)]


def plan_manual_sync(params: dict[str, Any], registry: Registry = REGISTRY) -> ManualPlan:
    """Check the form's values and build the plan.

    Raises:
        ConnectWiseConfigError: a value is missing or invalid; the message says which and why.
    """
    chosen = params.get("data_types")
    if not isinstance(chosen, list) or not chosen:
        raise ConnectWiseConfigError("data_types: pick at least one data type to synchronize.")
    unknown = [name for name in chosen if name not in registry.entities]
    if unknown:
        raise ConnectWiseConfigError(
            f"data_types: {', '.join(map(repr, unknown))} unknown; "
            f"allowed: {', '.join(registry.names())}."
        )
    mode = params.get("mode", "incremental")
    if mode not in MODE_LABELS:
        raise ConnectWiseConfigError(
            f"mode: {mode!r} is not allowed; use one of: {', '.join(MODE_LABELS)}."
        )
    since = _changed_since(params.get("changed_since"), mode)
    selected = [entity.name for entity in registry if entity.name in chosen]
    if mode == "remap":  # no API calls: nothing to bring up to date, no deletes to look for
        return ManualPlan(mode, tuple(selected), (), None)
    with_needs = [entity.name for entity in registry.with_dependencies(selected)]
    dependencies = tuple(name for name in with_needs if name not in selected)
    find_deleted = params.get("find_deleted", FIND_DELETED_DEFAULT)
    if not isinstance(find_deleted, bool):
        raise ConnectWiseConfigError(f"find_deleted: {find_deleted!r} is not true or false.")
    return ManualPlan(mode, tuple(selected), dependencies, since, find_deleted)


def _changed_since(value: Any, mode: str) -> datetime | None:
    if value in (None, ""):
        return None
    if mode != "incremental":
        raise ConnectWiseConfigError(
            f"changed_since applies to incremental runs only, not to mode {mode!r}; clear it."
        )
    try:
        moment = parse_datetime(str(value))
    except ValueError:
        moment = None
    if moment is None:
        raise ConnectWiseConfigError(
            f"changed_since: {value!r} is not a date (use YYYY-MM-DD or an ISO timestamp)."
        )
    if moment > datetime.now(UTC):
        raise ConnectWiseConfigError(f"changed_since: {value!r} is in the future.")
    return moment
