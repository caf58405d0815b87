"""Record filters an entity can declare (``Entity.record_filter``): which records to keep."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from itertools import chain
from typing import TYPE_CHECKING, Any, Protocol

from connectwise.client.conditions import changed_since
from connectwise.entities import REGISTRY
from connectwise.mapping.transforms import value_at
from connectwise.staging.history import get_watermark
from connectwise.staging.lookups import latest_raw_values

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from connectwise.client.hook import ConnectWiseHook
    from connectwise.mapping.models import MappingConfig

log = logging.getLogger(__name__)


class RecordFilter(Protocol):
    """Decides which fetched records of an entity are staged."""

    def prepare(self, hook: ConnectWiseHook, engine: Engine, *, is_full_read: bool) -> None:
        """Gather whatever the decision needs (once per sync).

        ``is_full_read`` is True when the sync reads the whole entity (a full sync, or an
        incremental one that never synced before).
        """

    def keep(self, record: dict[str, Any]) -> bool:
        """Return True to stage ``record``."""


class KeepAll:
    """The default: every record is staged."""

    def prepare(  # noqa: D102
        self,
        _hook: ConnectWiseHook,
        _engine: Engine,
        *,
        is_full_read: bool,  # noqa: ARG002 - the protocol's keyword; keeping all needs nothing
    ) -> None:
        return None

    def keep(self, _record: dict[str, Any]) -> bool:  # noqa: D102
        return True


class ContactCompanyTypeFilter:
    """Keep contacts whose company has one of the configured company types.

    This is the Mindmatrix seed's contact filter; with ``all`` every contact is kept and
    nothing is read.

    A full read of the contacts reads every company's types from ConnectWise (partial
    response ``fields=id,types``, 1,000 per page): a full sync is the reset path and does not
    lean on staging. Every other read (incremental, by id, callbacks) takes the types from
    the staged companies and reads only the companies changed since the companies' own
    watermark, so its cost follows the changes: one request when few companies changed.
    Until the companies have synced once, it reads them all, as a full read does.
    """

    def __init__(self, config: MappingConfig) -> None:
        types = config.contact_filter.company_types
        self._wanted = None if types == "all" else {name.casefold() for name in types}
        self._overlap = timedelta(seconds=config.settings.watermark_overlap_seconds)
        self._allowed_companies: set[int] = set()

    def prepare(  # noqa: D102
        self, hook: ConnectWiseHook, engine: Engine, *, is_full_read: bool
    ) -> None:
        if self._wanted is None:
            return
        companies = REGISTRY["companies"]
        # Read before the staged rows: rows staged meanwhile are newer, never older, than it.
        watermark = None if is_full_read else get_watermark(engine, companies.name)
        if watermark is None:
            known = self._read_types(hook, conditions=None)
            origin = "read from ConnectWise"
        else:
            since = watermark - self._overlap
            # Staged types first, then the companies changed since: the last value wins.
            known = chain(
                latest_raw_values(engine, companies, "types"),
                self._read_types(hook, conditions=changed_since(since, companies.cursor_field)),
            )
            origin = f"staged, updated with the companies changed since {since:%Y-%m-%d %H:%M:%S}"
        self._note_types(known)
        log.info(
            "Contact filter: %d companies have one of the types %s (%s)",
            len(self._allowed_companies),
            ", ".join(sorted(self._wanted)),
            origin,
        )

    def keep(self, record: dict[str, Any]) -> bool:  # noqa: D102
        if self._wanted is None:
            return True
        return value_at(record, "company/id") in self._allowed_companies

    @staticmethod
    def _read_types(hook: ConnectWiseHook, *, conditions: str | None) -> Iterator[tuple[int, Any]]:
        endpoint = REGISTRY["companies"].endpoint
        for page in hook.paginate(endpoint, conditions=conditions, fields=["id", "types"]):
            for company in page:
                yield int(company["id"]), company.get("types")

    def _note_types(self, known: Iterable[tuple[int, Any]]) -> None:
        wanted = self._wanted or set()
        for company_id, types in known:
            names = {
                str(item.get("name", "")).casefold()
                for item in types or []
                if isinstance(item, dict)
            }
            if names & wanted:
                self._allowed_companies.add(company_id)
            else:
                self._allowed_companies.discard(company_id)


RECORD_FILTERS: dict[str, Callable[[MappingConfig], RecordFilter]] = {
    "contact_company_types": ContactCompanyTypeFilter,
}
"""The filters an entity may name in ``Entity.record_filter``."""


def record_filter_for(name: str | None, config: MappingConfig) -> RecordFilter:
    """Build the filter an entity declares (none: keep every record).

    Raises:
        ValueError: no filter has that name (a misspelt name must not keep every record).
    """
    if name is None:
        return KeepAll()
    if name not in RECORD_FILTERS:
        raise ValueError(
            f"Unknown record filter {name!r}; the filters are: {', '.join(RECORD_FILTERS)}."
        )
    return RECORD_FILTERS[name](config)
