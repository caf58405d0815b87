"""Wire the sync tasks along the registry's dependencies: one per entity, one for the lookups.

Entities that do not depend on each other run in parallel (bounded by the ``connectwise_api``
pool); an entity still waits for every entity it references, which keeps the seed's order
wherever that order is a real dependency (company types before contacts and companies,
categories before the catalog, ...). The small lookup tables (types, statuses, categories,
members, stages: ``Entity.lookup``) sync one after another in one task, ``sync_lookups``:
under a real scheduler every task run costs about half a CPU-second of Airflow's own work
(a process, its supervisor, the execution API, metadata rows), far more than reading a lookup
table. Tasks are created in the registry's order, so the grid, which lists tasks
topologically, still reads in the seed's order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connectwise.assets import staging_changes
from connectwise.entities import REGISTRY, Entity, Registry

if TYPE_CHECKING:
    from airflow.sdk.definitions._internal.abstractoperator import AbstractOperator
    from airflow.sdk.definitions.xcom_arg import XComArg

LOOKUPS_TASK_ID = "sync_lookups"


def sync_task_id(entity: Entity) -> str:
    """Return the id of the task that syncs ``entity``: ``sync_<entity>`` or ``sync_lookups``."""
    return LOOKUPS_TASK_ID if entity.lookup else f"sync_{entity.name}"


@dataclass(frozen=True)
class SyncUnit:
    """What one sync task syncs: one entity, or every lookup table in dependency order."""

    task_id: str
    entities: tuple[Entity, ...]

    @property
    def names(self) -> list[str]:
        """The entity names, in the order the task syncs them."""
        return [entity.name for entity in self.entities]


def sync_units(registry: Registry = REGISTRY) -> list[SyncUnit]:
    """Return the sync tasks in dependency order (the lookups' task where its first lookup was)."""
    units: dict[str, list[Entity]] = {}
    for entity in registry.in_dependency_order():
        units.setdefault(sync_task_id(entity), []).append(entity)
    return [SyncUnit(task_id, tuple(entities)) for task_id, entities in units.items()]


@dataclass(frozen=True)
class EntityTasks:
    """The ends of a DAG's graph of sync tasks."""

    roots: list[AbstractOperator]  # depend on no other task
    leaves: list[AbstractOperator]  # no other task depends on them


def entity_tasks(
    make_task: Callable[[SyncUnit], XComArg | AbstractOperator], registry: Registry = REGISTRY
) -> EntityTasks:
    """Create one task per sync unit with ``make_task`` and wire the registry's dependencies.

    ``make_task`` gets the unit and returns the task (TaskFlow's ``XComArg`` or an operator),
    usually with ``sync_options(unit)``.
    """
    by_task: dict[str, Any] = {}
    upstream: dict[str, set[str]] = {}
    for unit in sync_units(registry):
        made = make_task(unit)
        by_task[unit.task_id] = getattr(made, "operator", made)
        needs = {sync_task_id(registry[name]) for e in unit.entities for name in e.dependencies}
        upstream[unit.task_id] = needs - {unit.task_id}
        for task_id in sorted(upstream[unit.task_id]):
            by_task[task_id] >> by_task[unit.task_id]
    depended_on = set().union(*upstream.values())
    return EntityTasks(
        roots=[task for task_id, task in by_task.items() if not upstream[task_id]],
        leaves=[task for task_id, task in by_task.items() if task_id not in depended_on],
    )


def sync_options(unit: SyncUnit) -> dict[str, Any]:
    """Return the ``override`` arguments of a sync task: its task id, outlets and docs.

    The outlets are the tables' change aliases, not their assets: the task emits an event on
    a table's asset only when rows changed (``connectwise.asset_events``).
    """
    options: dict[str, Any] = {
        "task_id": unit.task_id,
        "outlets": [staging_changes(entity) for entity in unit.entities],
    }
    if unit.task_id == LOOKUPS_TASK_ID:
        options["doc_md"] = (
            "Syncs the lookup tables one after another: "
            + ", ".join(entity.title.lower() for entity in unit.entities)
            + ". Each has its own row in the run history (`meta_sync_runs`); when one fails, "
            "the others are still synced and the task fails naming it."
        )
    elif unit.entities[0].optional:
        entity = unit.entities[0]
        options["doc_md"] = (
            f"**{entity.title}** is optional: it is synced only when the mapping file has an "
            f"`entities.{entity.name}` section (see docs/mapping.md). Without it this task is "
            "skipped; its log and the `summarize` task say why."
        )
    return options
