"""Checks of a quote before anything is written: lines, company, contact, products, agreement.

Every problem of a quote is collected into one error, and the ConnectWise records it refers to
are resolved into a :class:`QuotePlan` that the writes in ``quotes.py`` then follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectwise import endpoints
from connectwise.client.conditions import all_of, is_in
from connectwise.push.flow import Record, Row
from connectwise.push.validate import RowChecks
from connectwise.staging.outbox import Outcome


@dataclass
class QuotePlan:
    """What a valid quote refers to, resolved before anything is written."""

    products: dict[int, Record]  # line number → catalog item
    agreement_type_id: int | None = None
    target_agreement_id: int | None = None  # agreement_mode "addition"
    outcome: Outcome = field(default_factory=lambda: Outcome(0, "sent"))


class QuoteChecks:
    """Validation half of the quote flow (mixed into ``QuotePush``)."""

    context: Any
    hook: Any
    agreement_types: dict[str, int]
    default_agreement_type: int | None

    def _validate(self, row: Row, lines: list[Row]) -> QuotePlan:
        checks = RowChecks()
        checks.require(row, "name", "it is the opportunity's name")
        checks.max_length(row, "name", 100)
        if not lines:
            checks.add("the quote has no lines in outbox_quote_lines")
        for line in lines:
            checks.problems.extend(_line_problems(line))
        plan = QuotePlan(products={})
        if row["quote_status"] == "approved":
            plan.agreement_type_id = self._agreement_type(row, checks)
        company = self.context.get_record(
            endpoints.COMPANIES, int(row["company_id"]), "company", fields="id,deletedFlag"
        )
        if company.get("deletedFlag"):
            checks.add(f"company {row['company_id']} is deleted in ConnectWise")
        contact = self.context.get_record(
            endpoints.CONTACTS, int(row["contact_id"]), "contact", fields="id,company"
        )
        contact_company = (contact.get("company") or {}).get("id")
        if contact_company != row["company_id"]:
            checks.add(
                f"contact {row['contact_id']} belongs to company {contact_company}, not to "
                f"company {row['company_id']}"
            )
        plan.products = self._products(lines, checks)
        if (
            row["quote_status"] == "approved"
            and self.context.settings.agreement_mode == "addition"
            and not row.get("agreement_id")
        ):
            plan.target_agreement_id = self._target_agreement(row, plan, checks)
        checks.raise_if_any()
        return plan

    def _agreement_type(self, row: Row, checks: RowChecks) -> int | None:
        label = row.get("agreement_type")
        if label:
            if label not in self.agreement_types:
                known = ", ".join(sorted(self.agreement_types)) or "none"
                checks.add(
                    f"agreement_type {label!r} is not in push.agreement_type_map (known: {known})"
                )
            return self.agreement_types.get(label)
        if self.default_agreement_type is None and self.context.settings.agreement_mode == (
            "new_agreement"
        ):
            checks.add("no agreement_type, and push.default_agreement_type is not set")
        return self.default_agreement_type

    def _products(self, lines: list[Row], checks: RowChecks) -> dict[int, Record]:
        ids = sorted({int(line["product_id"]) for line in lines if line.get("product_id")})
        identifiers = sorted(
            {
                line["product_identifier"]
                for line in lines
                if not line.get("product_id") and line.get("product_identifier")
            }
        )
        found: list[Record] = []
        fields = ["id", "identifier", "description", "inactiveFlag"]
        for clause in filter(
            None, [ids and is_in("id", ids), identifiers and is_in("identifier", identifiers)]
        ):
            for page in self.hook.paginate(endpoints.CATALOG, conditions=clause, fields=fields):
                found.extend(page)
        by_id = {int(item["id"]): item for item in found}
        by_identifier = {str(item["identifier"]).casefold(): item for item in found}
        products = {}
        for line in lines:
            wanted = line.get("product_id") or line.get("product_identifier")
            item = (
                by_id.get(int(line["product_id"]))
                if line.get("product_id")
                else by_identifier.get(str(line.get("product_identifier") or "").casefold())
            )
            if item is None:
                checks.add(f"line {line['line_number']}: product {wanted!r} is not in the catalog")
            elif item.get("inactiveFlag"):
                checks.add(f"line {line['line_number']}: product {wanted!r} is inactive")
            else:
                products[line["line_number"]] = item
        return products

    def _target_agreement(self, row: Row, plan: QuotePlan, checks: RowChecks) -> int | None:
        found = self.hook.get_json(
            endpoints.AGREEMENTS,
            params={
                "conditions": all_of(
                    f"company/id = {row['company_id']}",
                    'agreementStatus = "Active"',
                    "cancelledFlag = false",
                ),
                "fields": "id,type",
                "orderBy": "id asc",
                "pageSize": 100,
            },
        )
        if not found:
            checks.add(
                f"company {row['company_id']} has no active agreement to add the lines to "
                "(push.agreement_mode is 'addition')"
            )
            return None
        same_type = [a for a in found if (a.get("type") or {}).get("id") == plan.agreement_type_id]
        return int((same_type or found)[0]["id"])


def _line_problems(line: Row) -> list[str]:
    """Return what is wrong with one quote line, each problem prefixed with its line number."""
    checks = RowChecks()
    checks.one_of(line, "product_id", "product_identifier")
    checks.positive(line, "quantity")
    checks.positive(line, "unit_price", allow_zero=True)
    if line.get("unit_cost") is not None:
        checks.positive(line, "unit_cost", allow_zero=True)
    return [f"line {line['line_number']}: {problem}" for problem in checks.problems]
