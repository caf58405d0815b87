"""Install, repair or remove the ConnectWise callbacks that feed `connectwise_callbacks`.

`install` (the default) keeps one owner-level callback per synced type pointing at the
connection's `callback_url` with its secret path token: it creates missing ones, fixes changed
URLs, re-activates callbacks ConnectWise disabled after failed deliveries (and says so), and
removes ours for types no longer synced. `uninstall` removes every callback this project
created and nothing else. Both are safe to rerun; `meta_callback_entries` shows the result.
The initial sync runs `install` as its last step.

Setup, answers and troubleshooting: [Callbacks guide](/connectwise-console/docs/callbacks).
"""

from __future__ import annotations

from airflow.sdk import Param, dag
from connectwise.callback_tasks import manage_callbacks
from connectwise.dag_defaults import dag_defaults, for_each_tenant
from connectwise.tenants import Tenant


def build(tenant: Tenant) -> None:
    """Build this DAG for one tenant (the default one: ``connectwise_callback_setup`` itself)."""

    @dag(
        dag_id=tenant.dag_id("connectwise_callback_setup"),
        schedule=None,
        description="Install, repair or remove the ConnectWise callbacks for real-time sync",
        doc_md=__doc__,
        params={
            "action": Param(
                "install",
                type="string",
                enum=["install", "uninstall"],
                description="install/repair, or remove this project's callbacks",
            ),
        },
        **dag_defaults(tenant, retries=2, retry_seconds=20),
    )
    def connectwise_callback_setup() -> None:
        """One task: install or uninstall."""
        manage_callbacks()

    connectwise_callback_setup()


for_each_tenant(build)
