"""Resolve the names the ``push`` mapping section uses to ConnectWise ids, once per run.

A flow resolves what it needs before it claims a row, so an unknown name fails the run with the
mapping key and the names that do exist, and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from connectwise import endpoints
from connectwise.client.conditions import literal
from connectwise.errors import ConnectWiseMappingError

if TYPE_CHECKING:
    from connectwise.client.hook import ConnectWiseHook
    from connectwise.mapping.load import Mapping

SETUP_TABLES = {
    "sales stage": endpoints.SALES_STAGES,
    "opportunity status": endpoints.OPPORTUNITY_STATUSES,
    "activity type": endpoints.ACTIVITY_TYPES,
    "activity status": endpoints.ACTIVITY_STATUSES,
    "billing terms": endpoints.BILLING_TERMS,
    "agreement type": endpoints.AGREEMENT_TYPES,
}


@dataclass
class TenantNames:
    """Name → id lookups against one tenant, each setup table read at most once."""

    hook: ConnectWiseHook
    mapping: Mapping
    _tables: dict[str, dict[str, int]] = field(default_factory=dict)
    _members: dict[str, int] = field(default_factory=dict)
    _names: dict[str, list[str]] = field(default_factory=dict)

    def id_of(self, what: str, name: str, key: str) -> int:
        """Return the id of the ``what`` (a key of :data:`SETUP_TABLES`) called ``name``.

        Raises:
            ConnectWiseMappingError: no such name; the message names ``key`` and the choices.
        """
        table = self._table(what)
        found = table.get(name.casefold())
        if found is None:
            known = ", ".join(sorted(self._names[what])) or "none"
            raise ConnectWiseMappingError(
                f"{self.mapping.path}: {key}: {name!r} is not a {what} in ConnectWise "
                f"(known: {known})"
            )
        return found

    def member_id(self, identifier: str, key: str) -> int:
        """Return the id of the active member with this identifier (the seeds' Member ID).

        Raises:
            ConnectWiseMappingError: no active member has it.
        """
        if identifier not in self._members:
            found = self.hook.get_json(
                endpoints.MEMBERS,
                params={
                    "conditions": f"identifier = {literal(identifier)} and inactiveFlag = false",
                    "fields": "id,identifier",
                },
            )
            if not found:
                raise ConnectWiseMappingError(
                    f"{self.mapping.path}: {key}: no active ConnectWise member has identifier "
                    f"{identifier!r} (System > Members; the identifier is the login name)"
                )
            self._members[identifier] = int(found[0]["id"])
        return self._members[identifier]

    def _table(self, what: str) -> dict[str, int]:
        if what not in self._tables:
            ids: dict[str, int] = {}
            names: list[str] = []
            for page in self.hook.paginate(SETUP_TABLES[what], fields=["id", "name"]):
                for record in page:
                    if record.get("name"):
                        ids.setdefault(str(record["name"]).casefold(), int(record["id"]))
                        names.append(str(record["name"]))
            self._tables[what] = ids
            self._names[what] = names
        return self._tables[what]
