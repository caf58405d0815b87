"""Pull the records changed since each entity's watermark into staging, on the set interval.

**Interval**: 5m, 15m, 30m, 1h, 4h or 1d, from the Variable `connectwise_sync_interval`
(Admin → Variables; an environment variable `AIRFLOW_VAR_CONNECTWISE_SYNC_INTERVAL` overrides
it), else `settings.sync_interval` of the mapping file, else 15m. A change applies when the
dag-processor next parses this file (within `[dag_processor] min_file_process_interval`, 30 s
by default); a value that is not one of those is an import error saying so.

An entity that never synced is synced fully first. Once per `settings.reconcile_interval`
(default daily) the run also soft-deletes records that disappeared from ConnectWise.
Settings: [Mapping guide](/connectwise-console/docs/mapping); freshness and lag per entity: the
[ConnectWise console](/connectwise-console/).
"""

from __future__ import annotations

from airflow.sdk import chain, dag
from connectwise.dag_defaults import dag_defaults, for_each_tenant
from connectwise.dag_graph import entity_tasks, sync_options
from connectwise.entities import REGISTRY
from connectwise.schedule import incremental_schedule
from connectwise.tasks import reconcile_deletes, summarize, sync_entities
from connectwise.tenants import Tenant


def build(tenant: Tenant) -> None:
    """Build this DAG for one tenant (the default one: ``connectwise_incremental_sync`` itself)."""

    @dag(
        dag_id=tenant.dag_id("connectwise_incremental_sync"),
        schedule=incremental_schedule(tenant=tenant),
        description="Pull ConnectWise changes into staging on the connectwise_sync_interval",
        doc_md=__doc__,
        **dag_defaults(tenant, retries=2, retry_seconds=30),
    )
    def connectwise_incremental_sync() -> None:
        """One incremental sync per entity along its dependencies, then deletes, then counts."""
        syncs = entity_tasks(
            lambda unit: sync_entities.override(**sync_options(unit))(
                entity_names=unit.names, mode="incremental"
            )
        )
        chain(syncs.leaves, reconcile_deletes(entity_names=REGISTRY.names()), summarize())

    connectwise_incremental_sync()


for_each_tenant(build)
