"""Wire one task per entity along the registry's dependencies.

Entities that do not depend on each other run in parallel (bounded by the ``connectwise_api``
pool); an entity still waits for every entity it references, which keeps the seed's order
wherever that order is a real dependency (company types before contacts and companies,
categories before the catalog, ...). Tasks are created in the registry's order, so the grid,
which lists tasks topologically, still reads in the seed's order.
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


def sync_task_id(entity: Entity) -> str:
    """Return the task id of an entity's sync task: ``sync_<entity>``."""
    return f"sync_{entity.name}"


@dataclass(frozen=True)
class EntityTasks:
    """The sync tasks of a DAG, by entity, with the ends of their graph."""

    by_entity: dict[str, AbstractOperator]
    roots: list[AbstractOperator]  # depend on no other entity
    leaves: list[AbstractOperator]  # no other entity depends on them


def entity_tasks(
    make_task: Callable[[Entity], XComArg | AbstractOperator], registry: Registry = REGISTRY
) -> EntityTasks:
    """Create one task per entity with ``make_task`` and wire the registry's dependencies.

    ``make_task`` gets the entity and returns the task (TaskFlow's ``XComArg`` or an
    operator), usually with ``sync_options(entity)``.
    """
    by_entity: dict[str, Any] = {}
    for entity in registry.in_dependency_order():
        made = make_task(entity)
        by_entity[entity.name] = getattr(made, "operator", made)
        for dependency in entity.dependencies:
            by_entity[dependency] >> by_entity[entity.name]
    depended_on = {name for entity in registry for name in entity.dependencies}
    ordered = registry.in_dependency_order()
    return EntityTasks(
        by_entity=by_entity,
        roots=[by_entity[e.name] for e in ordered if not e.dependencies],
        leaves=[by_entity[e.name] for e in ordered if e.name not in depended_on],
    )


def sync_options(entity: Entity) -> dict[str, Any]:
    """Return the ``override`` arguments of a sync task: its task id, outlet and docs.

    The outlet is the table's change alias, not its asset: the task emits an event on the
    asset only when rows changed (``connectwise.asset_events``).
    """
    options: dict[str, Any] = {
        "task_id": sync_task_id(entity),
        "outlets": [staging_changes(entity)],
    }
    if entity.optional:
        options["doc_md"] = (
            f"**{entity.title}** is optional: it is synced only when the mapping file has an "
            f"`entities.{entity.name}` section (see docs/mapping.md). Without it this task is "
            "skipped; its log and the `summarize` task say why."
        )
    return options
