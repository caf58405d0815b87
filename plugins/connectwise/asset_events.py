"""What a task changed in the staging tables, announced as asset events: one per changed table.

An event's ``extra`` says what the run did to the table, so a downstream DAG can decide whether
(and how much) work to do: rows inserted, updated, soft-deleted, quarantined, the entity's
watermark after the run, the mode (``full``, ``incremental``, ``ids``, ``remap``, ``reconcile``,
``callback``, ``push``) and the Airflow run id. A table whose rows did not change gets no
event, so downstream DAGs do not run for nothing; quarantined records alone change no row.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from airflow.sdk import AssetAlias

from connectwise.assets import staging_asset, staging_changes
from connectwise.entities import REGISTRY, Registry

if TYPE_CHECKING:
    from airflow.sdk import Context
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableChange:
    """What one task did to one entity's staging table (the event's ``extra``)."""

    entity: str
    table: str
    mode: str
    run_id: str
    inserted: int = 0
    updated: int = 0
    soft_deleted: int = 0
    quarantined: int = 0
    watermark: str | None = None  # ISO 8601; the next incremental read starts near it

    @property
    def has_changed_rows(self) -> bool:
        """Whether any row of the table was inserted, updated or soft-deleted."""
        return self.inserted + self.updated + self.soft_deleted > 0

    def as_extra(self) -> dict[str, Any]:
        """Return the event's ``extra`` (JSON values only)."""
        return asdict(self)

    def plus(self, other: TableChange) -> TableChange:
        """Add the counts of a later change of the same table (its watermark wins)."""
        return TableChange(
            entity=self.entity,
            table=self.table,
            mode=self.mode,
            run_id=self.run_id,
            inserted=self.inserted + other.inserted,
            updated=self.updated + other.updated,
            soft_deleted=self.soft_deleted + other.soft_deleted,
            quarantined=self.quarantined + other.quarantined,
            watermark=other.watermark or self.watermark,
        )


def change_from_sync(
    result: Mapping[str, Any],
    run_id: str,
    *,
    mode: str | None = None,
    registry: Registry = REGISTRY,
) -> TableChange:
    """Read a sync's figures (``jobs.run_sync``, a callback or push re-sync) as a change."""
    entity = registry[str(result["entity"])]
    return TableChange(
        entity=entity.name,
        table=entity.staging_table,
        mode=mode or str(result["mode"]),
        run_id=run_id,
        inserted=int(result.get("inserted", 0)),
        updated=int(result.get("updated", 0)),
        soft_deleted=int(result.get("deleted", 0)),
        quarantined=int(result.get("quarantined", 0)),
        watermark=result.get("watermark"),
    )


def change_from_reconcile(
    result: Mapping[str, Any], run_id: str, *, registry: Registry = REGISTRY
) -> TableChange:
    """Read a reconciliation's figures (``jobs.run_reconcile``) as a change."""
    entity = registry[str(result["entity"])]
    return TableChange(
        entity=entity.name,
        table=entity.staging_table,
        mode="reconcile",
        run_id=run_id,
        inserted=int(result.get("inserted", 0)),
        updated=int(result.get("updated", 0)),
        soft_deleted=int(result.get("soft_deleted", 0)),
        quarantined=int(result.get("quarantined", 0)),
    )


def with_watermarks(changes: Iterable[TableChange], engine: Engine) -> list[TableChange]:
    """Fill in the watermark of changes whose run did not report one (it did not move it)."""
    from connectwise.staging.history import get_watermark

    filled = []
    for change in changes:
        if change.watermark is None and change.has_changed_rows:
            stamp = get_watermark(engine, change.entity)
            change = replace(change, watermark=stamp.isoformat() if stamp else None)
        filled.append(change)
    return filled


def emit_changes(
    context: Context,
    changes: Iterable[TableChange],
    tenant_id: str | None = None,
    registry: Registry = REGISTRY,
) -> list[str]:
    """Emit one event per changed table through its alias; return the tables that got one.

    Changes of the same table are added up first. A table whose rows did not change gets no
    event (the log says so). The events go to ``tenant_id``'s assets (the job's tenant; None
    for a deployment without a tenants file).

    Raises:
        ValueError: the running task does not declare the table's alias as an outlet (Airflow
            would drop the event without a word).
    """
    declared = {outlet.name for outlet in context["task"].outlets if isinstance(outlet, AssetAlias)}
    emitted = []
    for change in _by_table(changes).values():
        entity = registry[change.entity]
        if not change.has_changed_rows:
            log.info(
                "%s: no rows inserted, updated or soft-deleted, so no asset event",
                change.table,
            )
            continue
        alias = staging_changes(entity)
        if alias.name not in declared:
            raise ValueError(
                f"task {context['task'].task_id} changed {change.table} but does not declare "
                f"the outlet {alias.name!r}; add staging_changes() of {entity.name} to its "
                "outlets"
            )
        asset = staging_asset(entity, tenant_id)
        context["outlet_events"][alias].add(asset, extra=change.as_extra())
        log.info(
            "Asset event on %s: %d inserted, %d updated, %d soft-deleted, %d quarantined "
            "(%s, watermark %s)",
            change.table,
            change.inserted,
            change.updated,
            change.soft_deleted,
            change.quarantined,
            change.mode,
            change.watermark,
        )
        emitted.append(change.table)
    return emitted


def _by_table(changes: Iterable[TableChange]) -> dict[str, TableChange]:
    totals: dict[str, TableChange] = {}
    for change in changes:
        earlier = totals.get(change.table)
        totals[change.table] = earlier.plus(change) if earlier else change
    return totals
