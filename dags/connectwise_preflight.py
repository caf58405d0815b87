"""Diagnose the ConnectWise setup before (or instead of) a sync.

Checks codebase discovery, the API keys and the clientId, then each of the 8 security-role
modules (Companies, Finance, Marketing, Procurement, Project, Sales, Service Desk, System) and
each of the 23 Table Setup entities the Salesbuildr seed lists, with one harmless read each,
and the mapping's names against the tenant. The checklist, with the fix for every failure, is
in the task log, in the `meta_preflight` table and on the
[ConnectWise console](/connectwise-console/). The mapping's names it checks:
[Mapping guide](/connectwise-console/docs/mapping).
"""

from __future__ import annotations

from airflow.sdk import dag
from connectwise.dag_defaults import dag_defaults, for_each_tenant
from connectwise.tasks import check_setup
from connectwise.tenants import Tenant


def build(tenant: Tenant) -> None:
    """Build this DAG for one tenant (the default one: ``connectwise_preflight`` itself)."""

    @dag(
        dag_id=tenant.dag_id("connectwise_preflight"),
        schedule=None,
        description="Check the connection, security role and mapping without syncing",
        doc_md=__doc__,
        **dag_defaults(tenant, retries=0),
    )
    def connectwise_preflight() -> None:
        """One task: the whole checklist."""
        check_setup()

    connectwise_preflight()


for_each_tenant(build)
