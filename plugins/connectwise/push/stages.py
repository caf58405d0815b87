"""Stage and status changes: outbox labels → ConnectWise names through the mapping's maps.

``sales_stage_map`` maps ConnectWise stage names to pipeline labels and
``opportunity_status_map`` status names to Open/Won/Lost; a change is written through them in
reverse. A label no stage maps to is not written (the Salesbuildr seed: "Unmapped stages will
not update"): the row is skipped with the reason and the run reports it. Changes made in
ConnectWise come back through the incremental sync as usual.
"""

from __future__ import annotations

import logging

from connectwise import endpoints
from connectwise.push.flow import PushFlow, Record, Row
from connectwise.push.reverse import replace_operations
from connectwise.push.validate import RowChecks
from connectwise.staging.outbox import Outcome, RowSkipped

log = logging.getLogger(__name__)


def reverse_map(forward: dict[str, str]) -> dict[str, str]:
    """Label → ConnectWise name; a name equal to its label wins, else the first listed."""
    reverse: dict[str, str] = {}
    for name, label in forward.items():
        if name == label or label not in reverse:
            reverse[label] = name
    return reverse


class StageChangePush(PushFlow):
    """``outbox_opportunity_stages`` → PATCH ``sales/opportunities/{id}`` stage and status."""

    name = "stages"
    table = "outbox_opportunity_stages"

    def prepare(self) -> None:
        """Resolve every mapped stage and status name to its id."""
        config, names = self.context.mapping.config, self.context.names
        self.stage_ids = {
            label: names.id_of("sales stage", name, f"sales_stage_map[{name!r}]")
            for label, name in reverse_map(config.sales_stage_map).items()
        }
        self.status_ids = {
            label: names.id_of("opportunity status", name, f"opportunity_status_map[{name!r}]")
            for label, name in reverse_map(dict(config.opportunity_status_map)).items()
        }

    def push(self, row: Row) -> Outcome:
        """Write the row's stage and status to its opportunity, or skip an unmapped one."""
        checks = RowChecks()
        checks.one_of(row, "stage", "opportunity_status")
        checks.raise_if_any()
        changes: Record = {}
        stage, status = row.get("stage"), row.get("opportunity_status")
        if stage:
            if stage not in self.stage_ids:
                known = ", ".join(sorted(self.stage_ids)) or "none: sales_stage_map is empty"
                raise RowSkipped(
                    f"unmapped stage {stage!r}: no stage in sales_stage_map has this label, so "
                    f"opportunity {row['opportunity_id']} was not updated (mapped: {known})",
                    report=True,
                )
            changes["stage"] = {"id": self.stage_ids[stage]}
        if status:
            if status not in self.status_ids:
                known = ", ".join(sorted(self.status_ids)) or "none"
                raise RowSkipped(
                    f"unmapped opportunity status {status!r}: opportunity_status_map has no "
                    f"status for it, so opportunity {row['opportunity_id']} was not updated "
                    f"(mapped: {known})",
                    report=True,
                )
            changes["status"] = {"id": self.status_ids[status]}
        opportunity_id = int(row["opportunity_id"])
        self.context.get_record(endpoints.OPPORTUNITIES, opportunity_id, "opportunity", fields="id")
        self.hook.patch(f"{endpoints.OPPORTUNITIES}/{opportunity_id}", replace_operations(changes))
        return Outcome(row["id"], "sent", columns={"opportunity_id": opportunity_id}, updated=1)

    def after(self, outcomes: list[Outcome]) -> None:
        """Re-stage the changed opportunities (their stage columns go through the maps)."""
        self.restage("opportunities", outcomes, "opportunity_id")
