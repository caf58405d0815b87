"""Read every ConnectWise entity into the staging tables, in the seed's order.

Reads every entity of the registry from ConnectWise into the staging tables, in the order the
Salesbuildr seed uses (company types, categories and subcategories, contacts, companies,
manufacturers, catalog and product types), then the remaining entities, then checks references
across tables and logs a summary of what landed. Its last step installs the ConnectWise
callbacks (skipped, with the reason, when the connection has no `callback_url`).

Trigger it manually after configuring the `connectwise_default` (API) and `connectwise_staging`
(database) connections. `preflight` stops the run before any record is read if the mapping,
the connection or the API member's security role is wrong, and says which.
"""

from __future__ import annotations

from airflow.sdk import chain, dag
from connectwise.assets import staging_asset
from connectwise.callback_tasks import install_callbacks
from connectwise.dag_defaults import dag_defaults
from connectwise.entities import REGISTRY
from connectwise.tasks import check_integrity, preflight, summarize, sync_entity


@dag(
    dag_id="connectwise_initial_sync",
    schedule=None,
    doc_md=__doc__,
    **dag_defaults(retries=2, retry_seconds=20),
)
def connectwise_initial_sync() -> None:
    """Preflight, then one sync task per entity in dependency order, then checks."""
    syncs = [
        sync_entity.override(task_id=f"sync_{entity.name}", outlets=[staging_asset(entity)])(
            entity_name=entity.name, mode="full"
        )
        for entity in REGISTRY.in_dependency_order()
    ]
    chain(preflight(), *syncs, check_integrity(), summarize(), install_callbacks())


connectwise_initial_sync()
