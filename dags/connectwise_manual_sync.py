"""Synchronize chosen data types now: the Salesbuildr "Synchronize → select data types → Start".

Pick data types in the form, a mode (changes since the last sync, a full re-sync, or re-map
only: re-apply the current mapping to the stored raw records without calling ConnectWise), and
optionally a "changed since" date for incremental runs; each field's help says what it does
and costs. Entities the chosen ones depend on are brought up to date first (choosing the
catalog also syncs categories, subcategories, manufacturers and product types). `plan` rejects
bad values before any API call.

Re-map after editing the mapping file: [Mapping guide](/connectwise-console/docs/mapping).
Results per data type, and quarantined records with their fixes: the
[ConnectWise console](/connectwise-console/).
"""

from __future__ import annotations

from airflow.sdk import chain, dag
from connectwise.dag_defaults import dag_defaults, for_each_tenant
from connectwise.dag_graph import entity_tasks, sync_options
from connectwise.manual_form import manual_sync_params
from connectwise.tasks import plan_manual_sync, reconcile_planned, summarize, sync_planned_entities
from connectwise.tenants import Tenant


def build(tenant: Tenant) -> None:
    """Build this DAG for one tenant (the default one: ``connectwise_manual_sync`` itself)."""

    @dag(
        dag_id=tenant.dag_id("connectwise_manual_sync"),
        schedule=None,
        description="Sync the data types you pick now: changes, a full re-sync, or a re-map",
        doc_md=__doc__,
        params=manual_sync_params(),
        **dag_defaults(tenant, retries=1, retry_seconds=30),
    )
    def connectwise_manual_sync() -> None:
        """Plan, then the planned entities along their dependencies, then deletes and counts."""
        plan = plan_manual_sync()
        syncs = entity_tasks(
            lambda unit: sync_planned_entities.override(**sync_options(unit))(
                entity_names=unit.names, plan=plan["plan"]
            )
        )
        reconcile = reconcile_planned(plan=plan["plan"])
        counts = summarize()
        chain(syncs.leaves, reconcile, counts)
        # `plan` may skip the reconciliation at once; the counts still wait for the syncs.
        syncs.leaves >> counts

    connectwise_manual_sync()


for_each_tenant(build)
