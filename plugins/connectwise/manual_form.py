"""The manual sync's trigger form: its fields, their defaults and the help a first run needs.

Airflow 3.3's form shows a Param's ``description_md`` (Markdown) under the field when the Param
has no plain ``description``, and a non-nullable field left empty (every data type cleared)
disables Trigger and marks the "Run Parameters" section red without saying why, so the help
text says it. ``minItems`` is not checked by the form, but by the REST API when a run is
triggered, so a run asked for with no data type is refused there too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectwise.entities import REGISTRY, Registry
from connectwise.manual import FIND_DELETED_DEFAULT, MODE_LABELS, data_type_labels

if TYPE_CHECKING:
    from airflow.sdk import Param

DATA_TYPES_HELP = (
    "What to synchronize. Pick **at least one**: with none picked, **Trigger** stays disabled "
    "and *Run Parameters* turns red. Data types the chosen ones depend on are brought up to "
    "date first, with their changes only: choosing the catalog also syncs categories, "
    "subcategories, manufacturers and product types."
)
MODE_HELP = (
    "- **Changes since the last sync**: reads only the records changed since each data type "
    "last synced (or since *Changed since*), about one request per 1,000 changed records and "
    "one or two when nothing changed. The usual choice.\n"
    "- **Full re-sync**: re-reads every record of the chosen types, about one request per "
    "1,000 records (minutes, and a share of the API budget, on a large tenant). For staging "
    "that looks incomplete, or after widening the mapping's filters.\n"
    "- **Re-map only (no API calls)**: re-applies the current mapping file to the records "
    "already stored, staged or quarantined, without calling ConnectWise. After editing the "
    "mapping. *Changed since* and *Look for deleted records* do not apply."
)
CHANGED_SINCE_HELP = (
    "Leave empty to continue from each data type's last sync. Set a date (UTC) only with "
    "*Changes since the last sync*, to re-read the chosen types' records changed on or after "
    "it, e.g. changes a failed run or an outage missed. It must not be in the future; with "
    "the other modes the run stops at its first task (`plan`) saying so."
)
FIND_DELETED_HELP = (
    "Off: deleted records are found by the incremental sync's daily reconciliation anyway. "
    "On: afterwards, list every id of each chosen type (a request per 1,000 records) and mark "
    "staged records that are gone from ConnectWise as deleted (`deleted_at`). Not with "
    "*Re-map only*."
)


def manual_sync_params(registry: Registry = REGISTRY) -> dict[str, Param]:
    """Return the form's fields, in the order the form shows them."""
    from airflow.sdk import Param

    names = registry.names()
    return {
        "data_types": Param(
            names,
            type="array",
            items={"type": "string", "enum": names},
            minItems=1,
            uniqueItems=True,
            # Airflow 3.3's form draws an array as a labelled multi-select only with examples.
            examples=names,
            title="Data types",
            description_md=DATA_TYPES_HELP,
            values_display=data_type_labels(registry),
        ),
        "mode": Param(
            "incremental",
            type="string",
            enum=list(MODE_LABELS),
            title="Mode",
            description_md=MODE_HELP,
            values_display=MODE_LABELS,
        ),
        "changed_since": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Changed since (optional)",
            description_md=CHANGED_SINCE_HELP,
        ),
        "find_deleted": Param(
            FIND_DELETED_DEFAULT,
            type="boolean",
            title="Look for deleted records",
            description_md=FIND_DELETED_HELP,
        ),
    }
