"""Contacts: create or update a ConnectWise contact per outbox row, then stage it.

Matching: the row's ``contact_id`` when given, else the contact of the row's company with the
row's email (the Mindmatrix push). The email is also what makes a retried create safe: a create
whose response was lost is found by that same lookup and updated instead of created twice.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from connectwise import endpoints
from connectwise.client.conditions import all_of, is_in, literal
from connectwise.push.flow import LOOKUP_BATCH, PushFlow, Record, Row
from connectwise.push.reverse import (
    ReversedFields,
    merge_channels,
    merge_custom,
    replace_operations,
    reverse_fields,
)
from connectwise.push.validate import RowChecks
from connectwise.staging.outbox import Outcome, RowError

log = logging.getLogger(__name__)

FIXED_COLUMNS = ("first_name", "last_name", "title", "email", "phone", "fax")
COMPANY_FIELDS = ["id", "identifier", "deletedFlag"]
CHANNEL_FLAGS = {"Email": "emailFlag", "Phone": "phoneFlag", "Fax": "faxFlag"}


class ContactPush(PushFlow):
    """``outbox_contacts`` → ``company/contacts`` (and company fields → ``company/companies``)."""

    name = "contacts"
    table = "outbox_contacts"

    def prepare(self) -> None:
        """Learn which communication type a new email, phone or fax item gets."""
        types = self.hook.get_json(
            endpoints.COMMUNICATION_TYPES,
            params={"fields": "id,description,emailFlag,phoneFlag,faxFlag,defaultFlag"},
        )
        self.type_ids: dict[str, int] = {}
        for channel, flag in CHANNEL_FLAGS.items():
            fitting = [t for t in types or [] if t.get(flag)]
            fitting.sort(key=lambda t: (not t.get("defaultFlag"), t["id"]))
            if fitting:
                self.type_ids[channel] = int(fitting[0]["id"])

    def prepare_batch(self, rows: list[Row]) -> None:
        """Read the batch's companies (given by id) in bulk."""
        ids = sorted({int(row["company_id"]) for row in rows if row.get("company_id")})
        self.companies: dict[int, Record] = {}
        for start in range(0, len(ids), LOOKUP_BATCH):
            clause = is_in("id", ids[start : start + LOOKUP_BATCH])
            for page in self.hook.paginate(
                endpoints.COMPANIES, conditions=clause, fields=COMPANY_FIELDS
            ):
                self.companies.update({int(company["id"]): company for company in page})

    def push(self, row: Row) -> Outcome:
        """Create or update the row's contact (and its company's mapped fields)."""
        values = self._values(row)
        checks = RowChecks()
        checks.one_of(row, "company_id", "company_identifier")
        checks.email(values, "email")  # as written: ``fields`` may carry the email too
        if row.get("contact_id") is None:
            checks.require(row, "email", "it is how the contact is matched and found again")
        checks.raise_if_any()
        mapping = self.context.mapping
        contact_fields = reverse_fields(mapping.fields_of("contacts"), values, "contacts")
        company_values = _json(row.get("company_fields"))
        company_fields = reverse_fields(mapping.fields_of("companies"), company_values, "companies")
        missing = [c for c in contact_fields.channels if c not in self.type_ids]
        if missing:
            raise RowError(f"ConnectWise has no communication type for {', '.join(missing)}")
        company = self._company(row)
        existing = self._existing(row, company)
        outcome = Outcome(row["id"], "sent", columns={"company_id": company["id"]})
        if existing is None:
            checks.require(row, "first_name", "ConnectWise requires a contact's first name")
            checks.raise_if_any()
            self._create(contact_fields, company, outcome)
        else:
            self._update(contact_fields, company, existing, outcome)
        if company_fields.body or company_fields.custom:
            self._update_company(company, company_fields.body, company_fields.custom)
            outcome.updated += 1
        return outcome

    def _create(self, fields: ReversedFields, company: Record, outcome: Outcome) -> None:
        body = fields.body
        body["company"] = {"id": company["id"]}  # the resolved company, by id
        body["communicationItems"] = merge_channels([], fields.channels, self.type_ids)
        if fields.custom:
            body["customFields"] = merge_custom(self._custom_template(), fields.custom)
        created = self.hook.post(endpoints.CONTACTS, body)
        outcome.columns["contact_id"] = int(created["id"])
        outcome.created += 1

    def _update(
        self, fields: ReversedFields, company: Record, existing: Record, outcome: Outcome
    ) -> None:
        body = fields.body
        body.pop("company", None)  # the company is the resolved one, by id
        if fields.channels:
            items = existing.get("communicationItems") or []
            body["communicationItems"] = merge_channels(items, fields.channels, self.type_ids)
        if fields.custom:
            body["customFields"] = merge_custom(existing.get("customFields") or [], fields.custom)
        if int((existing.get("company") or {}).get("id") or 0) != company["id"]:
            body["company"] = {"id": company["id"]}
        if body:
            self.hook.patch(f"{endpoints.CONTACTS}/{existing['id']}", replace_operations(body))
            outcome.updated += 1
        outcome.columns["contact_id"] = int(existing["id"])

    def after(self, outcomes: list[Outcome]) -> None:
        """Stage the pushed contacts through the contacts sync (ids mode)."""
        self.restage("contacts", outcomes, "contact_id")

    def _values(self, row: Row) -> dict[str, Any]:
        values = {column: row[column] for column in FIXED_COLUMNS if row.get(column) is not None}
        values.update(_json(row.get("fields")))
        return values

    def _company(self, row: Row) -> Record:
        if row.get("company_id") is not None:
            company = self.companies.get(int(row["company_id"])) or self.context.get_record(
                endpoints.COMPANIES,
                int(row["company_id"]),
                "company",
                fields=",".join(COMPANY_FIELDS),
            )
        else:
            found = self.hook.get_json(
                endpoints.COMPANIES,
                params={
                    "conditions": f"identifier = {literal(row['company_identifier'])}",
                    "fields": ",".join(COMPANY_FIELDS),
                },
            )
            if not found:
                raise RowError(
                    f"company {row['company_identifier']!r} does not exist in ConnectWise"
                )
            company = found[0]
        if company.get("deletedFlag"):
            raise RowError(f"company {company['id']} is deleted in ConnectWise")
        return {"id": int(company["id"]), "identifier": company.get("identifier")}

    def _existing(self, row: Row, company: Record) -> Record | None:
        if row.get("contact_id") is not None:
            return self.context.get_record(endpoints.CONTACTS, int(row["contact_id"]), "contact")
        if not row.get("email"):
            return None
        found = self.hook.get_json(
            endpoints.CONTACTS,
            params={
                "conditions": all_of(f"company/id = {company['id']}", "inactiveFlag = false"),
                "childConditions": f"communicationItems/value = {literal(row['email'])} and "
                'communicationItems/communicationType = "Email"',
                "orderBy": "id asc",
                "pageSize": 1,
            },
        )
        return found[0] if found else None

    def _custom_template(self) -> list[Record]:
        # A new contact's custom fields are the tenant's definitions; any contact carries them.
        sample = self.hook.get_json(
            endpoints.CONTACTS, params={"fields": "id,customFields", "pageSize": 1}
        )
        return (sample[0].get("customFields") or []) if sample else []

    def _update_company(self, company: Record, body: Record, custom: dict[Any, Any]) -> None:
        if custom:
            current = self.hook.get_json(
                f"{endpoints.COMPANIES}/{company['id']}", params={"fields": "id,customFields"}
            )
            body["customFields"] = merge_custom(current.get("customFields") or [], custom)
        self.hook.patch(f"{endpoints.COMPANIES}/{company['id']}", replace_operations(body))


def _json(value: Any) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    parsed = json.loads(value) if isinstance(value, str) else value
    if not isinstance(parsed, dict):
        raise RowError("fields and company_fields must be JSON objects of column → value")
    return parsed
