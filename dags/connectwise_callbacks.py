"""Apply ConnectWise callback deliveries to the staging tables within seconds.

The receiver (`/connectwise/callbacks/<token>` on the api-server, or the standalone receiver)
commits each verified delivery to `meta_callback_inbox` and emits an event on the inbox asset;
that event starts this DAG. Every 10 minutes it also runs as a sweep, so a delivery whose
wake-up was lost is still applied. A run applies the inbox in batches, then keeps polling for
`linger_seconds` so bursts do not pay a cold task start per change. Failed deliveries are
retried on later runs and quarantined after `max_attempts`.

How it works and what to check: [Callbacks guide](/connectwise-console/docs/callbacks); the
inbox's pending and failed deliveries: the [ConnectWise console](/connectwise-console/).
"""

from __future__ import annotations

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag
from connectwise.assets import callback_inbox_asset
from connectwise.callback_tasks import apply_callbacks
from connectwise.dag_defaults import dag_defaults, for_each_tenant
from connectwise.tenants import Tenant


def build(tenant: Tenant) -> None:
    """Build this DAG for one tenant (the default one: ``connectwise_callbacks`` itself)."""

    @dag(
        dag_id=tenant.dag_id("connectwise_callbacks"),
        schedule=AssetOrTimeSchedule(
            timetable=CronTriggerTimetable("*/10 * * * *", timezone="UTC"),
            assets=[callback_inbox_asset(tenant.id)],
        ),
        description="Apply ConnectWise callback deliveries to staging within seconds",
        doc_md=__doc__,
        params={
            "linger_seconds": Param(
                120,
                type="integer",
                minimum=0,
                maximum=600,
                description="Keep polling this long after the last delivery.",
            ),
            "max_attempts": Param(
                5,
                type="integer",
                minimum=1,
                maximum=50,
                description="Attempts before a delivery is quarantined.",
            ),
            "batch_size": Param(
                500,
                type="integer",
                minimum=1,
                maximum=5000,
                description="Deliveries applied per batch.",
            ),
        },
        **dag_defaults(tenant, retries=3, retry_seconds=5),
    )
    def connectwise_callbacks() -> None:
        """One task: drain the inbox."""
        apply_callbacks()

    connectwise_callbacks()


for_each_tenant(build)
