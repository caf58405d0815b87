"""What every push flow has: the tenant, the staging database, the mapping, one outbox table."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connectwise.errors import (
    ConnectWiseMappingError,
    ConnectWiseRequestError,
    QualityGateError,
)
from connectwise.staging.outbox import Outcome, RowError
from connectwise.sync_request import SyncRequest

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from connectwise.client.hook import ConnectWiseHook
    from connectwise.entities import Registry
    from connectwise.jobs import Job
    from connectwise.mapping.load import Mapping
    from connectwise.mapping.write_back import WriteBackSettings
    from connectwise.push.names import TenantNames

log = logging.getLogger(__name__)
LOOKUP_BATCH = 100  # ids per `id in (...)` lookup: keeps the URL far below 2,000 characters
Row = dict[str, Any]
Record = dict[str, Any]


@dataclass
class PushContext:
    """One push run against one tenant and one staging database (the task's job)."""

    job: Job
    names: TenantNames
    run_id: str
    # What re-staging the pushed records did, per entity (summed; for the asset events).
    staged: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def hook(self) -> ConnectWiseHook:
        """The tenant's API."""
        return self.job.hook

    @property
    def engine(self) -> Engine:
        """The staging database."""
        return self.job.engine

    @property
    def mapping(self) -> Mapping:
        """The mapping in use (its ``push`` section names what the flows write)."""
        return self.job.mapping

    @property
    def registry(self) -> Registry:
        """The synced entities."""
        return self.job.registry

    @property
    def settings(self) -> WriteBackSettings:
        """The mapping's ``push`` section."""
        return self.mapping.config.push

    def setting(self, key: str) -> Any:
        """Return a ``push`` setting that the flow cannot do without.

        Raises:
            ConnectWiseMappingError: it is not set.
        """
        value = getattr(self.settings, key)
        if value in (None, ""):
            raise ConnectWiseMappingError(
                f"{self.mapping.path}: push.{key} is not set; the write-back needs it "
                "(see docs/mapping.md, 'Write-back')"
            )
        return value

    def get_record(self, endpoint: str, record_id: int, what: str, **params: Any) -> Record:
        """GET one record; a 404 fails the row with a readable reason.

        Raises:
            RowError: ConnectWise has no such record.
        """
        try:
            return self.hook.get_json(f"{endpoint}/{record_id}", params=params or None)
        except ConnectWiseRequestError as exc:
            if exc.status == 404:
                raise RowError(f"{what} {record_id} does not exist in ConnectWise") from None
            raise


class PushFlow(ABC):
    """Pushes the rows of one outbox table; the runner claims, records and reports."""

    name: str
    table: str
    parallel: bool = True  # rows are independent: push them on the hook's parallel requests

    def __init__(self, context: PushContext) -> None:
        self.context = context
        self.hook = context.hook

    def prepare(self) -> None:  # noqa: B027 - optional hook
        """Resolve the mapping's names before the first row (fails the run, writes nothing)."""

    def prepare_batch(self, rows: list[Row]) -> None:  # noqa: B027 - optional hook
        """Look up, in bulk, what the rows of one claimed batch refer to."""

    @abstractmethod
    def push(self, row: Row) -> Outcome:
        """Push one claimed row and say what happened.

        Raises:
            RowError, RowSkipped: the row fails or is skipped, with the reason.
            ConnectWiseRequestError: ConnectWise refused a write (its message is stored).
            ConnectWiseTransientError: the outcome is unknown; the row stays in flight.
        """

    def after(self, outcomes: list[Outcome]) -> None:  # noqa: B027 - optional hook
        """Bring what was pushed into staging."""

    def restage(self, entity_name: str, outcomes: list[Outcome], id_column: str) -> None:
        """Sync the pushed records of ``entity_name`` into staging (the ids mode of the sync)."""
        ids = sorted({o.columns[id_column] for o in outcomes if o.columns.get(id_column)})
        if not ids:
            return
        context = self.context
        run_id = f"{context.run_id}:push_{self.name}"
        try:
            result = context.job.sync.run(
                SyncRequest.by_ids(context.registry[entity_name], run_id, ids)
            )
        except QualityGateError as exc:
            # The push itself succeeded; staging keeps the reasons in meta_quarantine.
            log.warning("push %s: staging the pushed %s: %s", self.name, entity_name, exc)
            return
        totals = context.staged.setdefault(entity_name, {"entity": entity_name})
        for key in ("inserted", "updated", "deleted", "quarantined"):
            totals[key] = totals.get(key, 0) + int(result.get(key, 0))
