"""Staging tables as Airflow Assets, so downstream DAGs can be scheduled on fresh data.

A task that changes a staging table emits one event on that table's asset, with what it did in
the event's ``extra`` (see ``connectwise.asset_events``); a task that changed nothing emits
none. Plain ``Asset`` outlets would emit an event on every success, so the tasks declare an
``AssetAlias`` per table instead and add the table's asset to it only when rows changed: the
event still lands on the plain asset, and a downstream DAG declares
``schedule=[staging_asset(REGISTRY["contacts"])]`` (see docs/analysts.md).
"""

from __future__ import annotations

from collections.abc import Iterable

from airflow.sdk import Asset, AssetAlias

from connectwise.entities import REGISTRY, Entity

ASSET_SCHEME = "connectwise-staging"
ASSET_GROUP = "connectwise"


def staging_asset(entity: Entity, tenant: str | None = None) -> Asset:
    """Return the asset of an entity's table: ``connectwise-staging://staging/stg_<entity>``.

    A configured tenant's tables are assets of their own (``connectwise-staging://<tenant>/...``,
    named ``connectwise.<tenant>.stg_<entity>``): one tenant's changes never start a DAG that
    waits for another's.
    """
    if tenant is None:
        return Asset(
            name=f"connectwise.{entity.staging_table}",
            uri=f"{ASSET_SCHEME}://staging/{entity.staging_table}",
            group=ASSET_GROUP,
        )
    return Asset(
        name=f"connectwise.{tenant}.{entity.staging_table}",
        uri=f"{ASSET_SCHEME}://{tenant}/{entity.staging_table}",
        group=ASSET_GROUP,
    )


def staging_changes(entity: Entity) -> AssetAlias:
    """Return the alias through which a task emits an event on the table it changed.

    Every tenant's tasks share it: the asset added to it at run time is the tenant's own.
    """
    return AssetAlias(name=f"connectwise.{entity.staging_table}.changes", group=ASSET_GROUP)


def staging_change_outlets(entity_names: Iterable[str] | None = None) -> list[AssetAlias]:
    """Return the change aliases of the named entities (all of the registry without names)."""
    names = REGISTRY.names() if entity_names is None else entity_names
    return [staging_changes(REGISTRY[name]) for name in names]


def callback_inbox_asset(tenant: str | None = None) -> Asset:
    """Return the callback inbox's asset (the receiver emits an event after accepting).

    A configured tenant's inbox is its own asset, which starts only its own callbacks DAG.
    """
    if tenant is None:
        return Asset(
            name="connectwise.meta_callback_inbox",
            uri=f"{ASSET_SCHEME}://staging/meta_callback_inbox",
            group=ASSET_GROUP,
        )
    return Asset(
        name=f"connectwise.{tenant}.meta_callback_inbox",
        uri=f"{ASSET_SCHEME}://{tenant}/meta_callback_inbox",
        group=ASSET_GROUP,
    )
