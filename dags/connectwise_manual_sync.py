"""Synchronize chosen data types now: the Salesbuildr "Synchronize → select data types → Start".

Pick data types in the form, a mode (changes since the last sync, a full re-sync, or re-map
only: re-apply the current mapping to the stored raw records without calling ConnectWise), and
optionally a "changed since" date for incremental runs. Entities the chosen ones depend on are
brought up to date first (choosing the catalog also syncs categories, subcategories,
manufacturers and product types). `plan` rejects bad values before any API call.
"""

from __future__ import annotations

from airflow.sdk import Param, chain, dag
from connectwise.dag_defaults import dag_defaults
from connectwise.dag_graph import entity_tasks, sync_options
from connectwise.entities import REGISTRY
from connectwise.manual import MODE_LABELS, data_type_labels
from connectwise.tasks import plan_manual_sync, reconcile_planned, summarize, sync_planned_entity

LABELS = data_type_labels()


@dag(
    dag_id="connectwise_manual_sync",
    schedule=None,
    doc_md=__doc__,
    **dag_defaults(retries=1, retry_seconds=30),
    params={
        "data_types": Param(
            REGISTRY.names(),
            type="array",
            items={"type": "string", "enum": REGISTRY.names()},
            # Airflow 3.3's form draws an array as a labelled multi-select only with examples.
            examples=REGISTRY.names(),
            title="Data types",
            description="What to synchronize.",
            values_display=LABELS,
        ),
        "mode": Param(
            "incremental",
            type="string",
            enum=list(MODE_LABELS),
            title="Mode",
            values_display=MODE_LABELS,
        ),
        "changed_since": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Changed since (incremental only)",
            description="Re-read records changed since this date instead of the watermark.",
        ),
        "find_deleted": Param(
            True,
            type="boolean",
            title="Look for deleted records",
            description="Soft-delete staged records that are gone from ConnectWise.",
        ),
    },
)
def connectwise_manual_sync() -> None:
    """Plan, then the planned entities along their dependencies, then deletes and counts."""
    plan = plan_manual_sync()
    syncs = entity_tasks(
        lambda entity: sync_planned_entity.override(**sync_options(entity))(
            entity_name=entity.name, plan=plan["plan"]
        )
    )
    reconcile = reconcile_planned(plan=plan["plan"])
    counts = summarize()
    chain(syncs.leaves, reconcile, counts)
    # `plan` may skip the reconciliation at once; the counts still wait for the syncs.
    syncs.leaves >> counts


connectwise_manual_sync()
