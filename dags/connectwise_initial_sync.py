"""Read every ConnectWise entity into the staging tables, each after what it references.

Reads every entity of the registry from ConnectWise into the staging tables. Each entity waits
for the entities it references — the Salesbuildr seed's order wherever it is a real dependency:
company types before contacts and companies, categories, subcategories, manufacturers and
product types before the catalog, companies and contacts before opportunities and agreements —
and entities that do not depend on each other run in parallel within the `connectwise_api`
pool. Then it checks references across tables and logs a summary of what landed. Its last step
installs the ConnectWise callbacks (skipped, with the reason, when the connection has no
`callback_url`).

Trigger it manually after configuring the `connectwise_default` (API) and `connectwise_staging`
(database) connections. `preflight` stops the run before any record is read if the mapping,
the connection or the API member's security role is wrong, and says which.

What lands where: [Mapping guide](/connectwise-console/docs/mapping),
[Architecture](/connectwise-console/docs/architecture); the result per entity: the
[ConnectWise console](/connectwise-console/).
"""

from __future__ import annotations

from airflow.sdk import chain, dag
from connectwise.callback_tasks import install_callbacks
from connectwise.dag_defaults import dag_defaults, for_each_tenant
from connectwise.dag_graph import entity_tasks, sync_options
from connectwise.tasks import check_integrity, preflight, summarize, sync_entities
from connectwise.tenants import Tenant


def build(tenant: Tenant) -> None:
    """Build this DAG for one tenant (the default one: ``connectwise_initial_sync`` itself)."""

    @dag(
        dag_id=tenant.dag_id("connectwise_initial_sync"),
        schedule=None,
        description="Read every ConnectWise entity into staging; run once after setup",
        doc_md=__doc__,
        **dag_defaults(tenant, retries=2, retry_seconds=20),
    )
    def connectwise_initial_sync() -> None:
        """Preflight, one sync task per entity along the registry's dependencies, checks."""
        syncs = entity_tasks(
            lambda unit: sync_entities.override(**sync_options(unit))(
                entity_names=unit.names, mode="full"
            )
        )
        preflight() >> syncs.roots
        chain(syncs.leaves, check_integrity(), summarize(), install_callbacks())

    connectwise_initial_sync()


for_each_tenant(build)
