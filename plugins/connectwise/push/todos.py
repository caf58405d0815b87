"""To-dos: one sales activity per outbox row, assigned to ``push.activity_member``.

Only for contacts known on both sides (the Mindmatrix rule): staged in ``stg_contacts`` and
present in ConnectWise; other rows are skipped with the reason. Editing a row updates its
activity; ``is_closed`` moves the activity to ``push.activity_closed_status``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from connectwise import endpoints
from connectwise.client.conditions import is_in, literal
from connectwise.push.flow import LOOKUP_BATCH, PushFlow, Record, Row
from connectwise.push.reverse import replace_operations
from connectwise.push.validate import RowChecks
from connectwise.staging import lookups
from connectwise.staging.outbox import Outcome, RowSkipped, push_tag
from connectwise.values import format_datetime, parse_boolean, parse_datetime


class TodoPush(PushFlow):
    """``outbox_todos`` → ``sales/activities``."""

    name = "todos"
    table = "outbox_todos"

    def prepare(self) -> None:
        """Resolve the member, the activity type and the open and closed statuses."""
        context, names = self.context, self.context.names
        member = context.setting("activity_member")
        self.member_id = names.member_id(member, "push.activity_member")
        settings = context.settings
        self.type_id = (
            names.id_of("activity type", settings.activity_type, "push.activity_type")
            if settings.activity_type
            else None
        )
        self.open_id = names.id_of(
            "activity status", settings.activity_open_status, "push.activity_open_status"
        )
        self.closed_id = names.id_of(
            "activity status", settings.activity_closed_status, "push.activity_closed_status"
        )

    def prepare_batch(self, rows: list[Row]) -> None:
        """Find the batch's contacts in staging, then the staged ones in ConnectWise."""
        self.staged = _staged_contacts(self.context.engine, rows)
        ids = sorted({contact["id"] for contact in self.staged.values()})
        self.remote: dict[int, Record] = {}
        for start in range(0, len(ids), LOOKUP_BATCH):
            chunk = ids[start : start + LOOKUP_BATCH]
            for page in self.hook.paginate(
                endpoints.CONTACTS, conditions=is_in("id", chunk), fields=["id", "company"]
            ):
                self.remote.update({int(record["id"]): record for record in page})

    def push(self, row: Row) -> Outcome:
        """Create, update or close the row's activity."""
        checks = RowChecks()
        checks.require(row, "subject", "it is the activity's name")
        checks.max_length(row, "subject", 100)
        checks.one_of(row, "contact_id", "contact_email")
        checks.raise_if_any()
        contact = self._contact(row)
        tag = push_tag(row["push_key"])
        body: Record = {
            "name": row["subject"],
            "notes": f"{row['notes']}\n\n{tag}" if row.get("notes") else tag,
            "status": {"id": self.closed_id if parse_boolean(row["is_closed"]) else self.open_id},
        }
        due = _timestamp(row.get("due_at"))
        if due:
            body["dateStart"] = due
        outcome = Outcome(row["id"], "sent")
        activity_id = row.get("activity_id") or (self._find(tag) if row["resumed"] else None)
        if activity_id:
            self.hook.patch(f"{endpoints.ACTIVITIES}/{activity_id}", replace_operations(body))
            outcome.updated += 1
        else:
            body.update(
                assignTo={"id": self.member_id},
                contact={"id": contact["id"]},
                company={"id": contact["company_id"]},
            )
            if self.type_id is not None:
                body["type"] = {"id": self.type_id}
            activity_id = int(self.hook.post(endpoints.ACTIVITIES, body)["id"])
            outcome.created += 1
        outcome.columns = {"activity_id": int(activity_id), "contact_id": contact["id"]}
        return outcome

    def _contact(self, row: Row) -> dict[str, Any]:
        key = _contact_key(row)
        staged = self.staged.get(key)
        if staged is None:
            raise RowSkipped(
                f"contact {key[1]!r} is not in staging (stg_contacts): to-dos are pushed only "
                "for contacts known on both sides"
            )
        remote = self.remote.get(staged["id"])
        if remote is None:
            raise RowSkipped(
                f"contact {staged['id']} is not in ConnectWise: to-dos are pushed only for "
                "contacts known on both sides"
            )
        company_id = (remote.get("company") or {}).get("id")
        return {"id": staged["id"], "company_id": int(company_id) if company_id else None}

    def _find(self, tag: str) -> int | None:
        # A create whose response was lost carries the row's tag: find it instead of duplicating.
        found = self.hook.get_json(
            endpoints.ACTIVITIES,
            params={"conditions": f"notes contains {literal(tag)}", "fields": "id", "pageSize": 1},
        )
        return int(found[0]["id"]) if found else None


def _contact_key(row: Row) -> tuple[str, Any]:
    if row.get("contact_id") is not None:
        return ("id", int(row["contact_id"]))
    return ("email", str(row["contact_email"]).casefold())


def _staged_contacts(engine: sa.Engine, rows: list[Row]) -> dict[tuple[str, Any], dict[str, Any]]:
    ids = sorted({int(r["contact_id"]) for r in rows if r.get("contact_id") is not None})
    emails = sorted(
        {
            str(r["contact_email"]).casefold()
            for r in rows
            if r.get("contact_id") is None and r.get("contact_email")
        }
    )
    live = lookups.live_ids_among(engine, "stg_contacts", ids)
    found: dict[tuple[str, Any], dict[str, Any]] = {("id", id_): {"id": id_} for id_ in live}
    by_email = lookups.first_live_id_by_email(engine, "stg_contacts", emails)
    found.update({("email", email): {"id": id_} for email, id_ in by_email.items()})
    return found


def _timestamp(value: Any) -> str | None:
    if value in (None, ""):
        return None
    moment = value if not isinstance(value, str) else parse_datetime(value)
    return format_datetime(moment) if moment else None
