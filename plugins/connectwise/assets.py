"""Staging tables as Airflow Assets, so downstream DAGs can be scheduled on fresh data.

Every successful sync task of an entity emits an event on its table's asset. A downstream DAG
declares ``schedule=[staging_asset(REGISTRY["contacts"])]`` (see docs/analysts.md).
"""

from __future__ import annotations

from airflow.sdk import Asset

from connectwise.entities import Entity

ASSET_SCHEME = "connectwise-staging"


def staging_asset(entity: Entity) -> Asset:
    """Return the asset of an entity's table: ``connectwise-staging://staging/stg_<entity>``."""
    return Asset(
        name=f"connectwise.{entity.staging_table}",
        uri=f"{ASSET_SCHEME}://staging/{entity.staging_table}",
        group="connectwise",
    )


def callback_inbox_asset() -> Asset:
    """Return the callback inbox's asset (the receiver emits an event after accepting)."""
    return Asset(
        name="connectwise.meta_callback_inbox",
        uri=f"{ASSET_SCHEME}://staging/meta_callback_inbox",
        group="connectwise",
    )
