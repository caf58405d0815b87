"""Carry the outbox tables to ConnectWise (write-back), every 5 minutes or when triggered.

Contacts are created or updated (then staged), to-dos become sales activities for contacts
known on both sides, quotes become opportunities with forecast lines (and agreements once
approved), and stage changes move opportunities through the mapping's maps. Each row ends
`sent`, `failed` or `skipped` with the reason; a write whose outcome is uncertain (a 5xx, a
timeout) keeps its row `sending` until a later run, after `next_attempt_at`, looks the record
up and completes it. `meta_push_runs` has each run's figures; the outboxes' pending and
failed rows are on the [ConnectWise console](/connectwise-console/). How to fill the outboxes:
[Write-back guide](/connectwise-console/docs/write-back).
"""

from __future__ import annotations

from airflow.sdk import dag
from connectwise.dag_defaults import dag_defaults, for_each_tenant
from connectwise.tasks import push_outbox
from connectwise.tenants import Tenant


def build(tenant: Tenant) -> None:
    """Build this DAG for one tenant (the default one: ``connectwise_push`` itself)."""

    @dag(
        dag_id=tenant.dag_id("connectwise_push"),
        schedule="*/5 * * * *",
        description="Write the outbox tables back to ConnectWise every 5 minutes",
        doc_md=__doc__,
        **dag_defaults(tenant, retries=2, retry_seconds=30),
    )
    def connectwise_push() -> None:
        """Contacts, then to-dos (which need their contacts); quotes and stage changes alongside."""
        contacts = push_outbox.override(task_id="push_contacts")(flow="contacts")
        todos = push_outbox.override(task_id="push_todos")(flow="todos")
        contacts >> todos
        push_outbox.override(task_id="push_quotes")(flow="quotes")
        push_outbox.override(task_id="push_stages")(flow="stages")

    connectwise_push()


for_each_tenant(build)
