"""How every tenant of this deployment stands, one row each (only with a tenants file).

For each tenant of `include/tenants.yaml` (or `$CONNECTWISE_TENANTS_FILE`): the last success of
its stalest entity, the lag since, its staged rows, open quarantine, the entities whose latest
run failed and the first failing line of its latest preflight. The task log has the table, its
XCom the rows; the [ConnectWise console](/connectwise-console/) shows the same. A tenant
whose staging cannot be read gets a row saying why, never a failed run: each tenant's own DAGs
fail for their own reasons.
"""

from __future__ import annotations

from airflow.sdk import dag
from connectwise.dag_defaults import dag_defaults
from connectwise.tenant_tasks import tenants_overview
from connectwise.tenants import configured_tenants

if configured_tenants() is not None:

    @dag(
        dag_id="connectwise_tenants",
        schedule="*/15 * * * *",
        description="One row per tenant: last success, lag, quarantine, failing check",
        doc_md=__doc__,
        **dag_defaults(retries=1, retry_seconds=30),
    )
    def connectwise_tenants() -> None:
        """One task: the overview."""
        tenants_overview()

    connectwise_tenants()
