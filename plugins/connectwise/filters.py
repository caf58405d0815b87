"""Record filters an entity can declare (``Entity.record_filter``): which records to keep."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

from connectwise.mapping.transforms import value_at

if TYPE_CHECKING:
    from connectwise.hook import ConnectWiseHook
    from connectwise.mapping.models import MappingConfig

log = logging.getLogger(__name__)


class RecordFilter(Protocol):
    """Decides which fetched records of an entity are staged."""

    def prepare(self, hook: ConnectWiseHook) -> None:
        """Fetch whatever the decision needs (once per sync)."""

    def keep(self, record: dict[str, Any]) -> bool:
        """Return True to stage ``record``."""


class KeepAll:
    """The default: every record is staged."""

    def prepare(self, _hook: ConnectWiseHook) -> None:  # noqa: D102
        return None

    def keep(self, _record: dict[str, Any]) -> bool:  # noqa: D102
        return True


class ContactCompanyTypeFilter:
    """Keep contacts whose company has one of the configured company types.

    This is the Mindmatrix seed's contact filter; with ``all`` every contact is kept.

    The allowed companies are read once per sync with a partial response (``fields=id,types``,
    1,000 per page), so the filter costs a handful of requests, not one per contact.
    """

    def __init__(self, config: MappingConfig) -> None:
        types = config.contact_filter.company_types
        self._wanted = None if types == "all" else {name.casefold() for name in types}
        self._allowed_companies: set[int] = set()

    def prepare(self, hook: ConnectWiseHook) -> None:  # noqa: D102
        if self._wanted is None:
            return
        for page in hook.paginate("company/companies", fields=["id", "types"]):
            for company in page:
                names = {
                    str(item.get("name", "")).casefold()
                    for item in company.get("types") or []
                    if isinstance(item, dict)
                }
                if names & self._wanted:
                    self._allowed_companies.add(int(company["id"]))
        log.info(
            "Contact filter: %d companies have one of the types %s",
            len(self._allowed_companies),
            ", ".join(sorted(self._wanted)),
        )

    def keep(self, record: dict[str, Any]) -> bool:  # noqa: D102
        if self._wanted is None:
            return True
        return value_at(record, "company/id") in self._allowed_companies


def record_filter_for(name: str | None, config: MappingConfig) -> RecordFilter:
    """Build the filter an entity declares."""
    if name == "contact_company_types":
        return ContactCompanyTypeFilter(config)
    return KeepAll()
