"""Quotes: an opportunity with forecast lines per quote, moved through the quote's status.

Approved quotes also become a new agreement or additions to the company's agreement
(``push.agreement_mode``).

Everything a quote refers to is checked before the first write, so a bad quote fails with
nothing written. Each ConnectWise id is stored on the outbox row the moment it exists, so a
push interrupted half-way (a refused line, a lost response) continues where it stopped on its
next attempt instead of creating the opportunity again (docs/write-back.md).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectwise import endpoints
from connectwise.client.conditions import literal
from connectwise.errors import ConnectWiseMappingError, ConnectWiseRequestError
from connectwise.push.flow import PushFlow, Record, Row
from connectwise.push.quote_checks import QuoteChecks, QuotePlan
from connectwise.push.reverse import replace_operations
from connectwise.staging.database import utc_now
from connectwise.staging.outbox import (
    Outcome,
    RowError,
    push_tag,
    rows_where,
    save_columns,
    save_columns_where,
)
from connectwise.values import format_datetime, parse_datetime

CENTS = Decimal("0.01")
DEFAULT_CLOSE_DAYS = 30  # expectedCloseDate of a quote without one ("Required On Updates")


class QuotePush(QuoteChecks, PushFlow):
    """``outbox_quotes`` + ``outbox_quote_lines`` → opportunities, forecast, agreements."""

    name = "quotes"
    table = "outbox_quotes"
    parallel = False  # each step stores its id before the next; one quote at a time

    def prepare(self) -> None:
        """Resolve the defaults, the quote-status map and the agreement types."""
        context, names = self.context, self.context.names
        settings = context.settings
        defaults = settings.opportunity_defaults
        if not defaults.sales_rep:
            raise ConnectWiseMappingError(
                f"{context.mapping.path}: push.opportunity_defaults.sales_rep is not set; "
                "ConnectWise requires an opportunity's primary sales rep (a member identifier)"
            )
        key = "push.opportunity_defaults"
        self.sales_rep_id = names.member_id(defaults.sales_rep, f"{key}.sales_rep")
        self.default_stage_id = (
            names.id_of("sales stage", defaults.stage, f"{key}.stage") if defaults.stage else None
        )
        self.billing_terms_id = (
            names.id_of("billing terms", defaults.billing_terms, f"{key}.billing_terms")
            if defaults.billing_terms
            else None
        )
        self.moves = {
            status: (
                names.id_of("sales stage", move.stage, f"push.quote_status_map[{status!r}].stage"),
                names.id_of(
                    "opportunity status", move.status, f"push.quote_status_map[{status!r}].status"
                ),
            )
            for status, move in settings.quote_status_map.items()
        }
        self.agreement_types = {
            label: names.id_of("agreement type", name, f"push.agreement_type_map[{label!r}]")
            for label, name in settings.agreement_type_map.items()
        }
        self.default_agreement_type = (
            names.id_of(
                "agreement type", settings.default_agreement_type, "push.default_agreement_type"
            )
            if settings.default_agreement_type
            else None
        )

    def push(self, row: Row) -> Outcome:
        """Validate the quote, then create or continue its opportunity, lines and agreement."""
        lines = self._lines(row)
        plan = self._validate(row, lines)
        plan.outcome.row_id = row["id"]
        try:
            opportunity = self._opportunity(row, plan)
            self._forecast(row, opportunity, lines, plan)
            self._move(row, opportunity, plan)
            if row["quote_status"] == "approved":
                self._agreement(row, opportunity, lines, plan)
        except ConnectWiseRequestError as exc:
            if not row.get("opportunity_id"):
                raise
            raise RowError(
                f"{exc} Partly pushed: opportunity {row['opportunity_id']} and the ids of the "
                "lines already written are recorded on the rows; fix the quote and set status "
                "back to 'pending' to continue where it stopped."
            ) from None
        return plan.outcome

    def after(self, outcomes: list[Outcome]) -> None:
        """Stage the quotes' opportunities (agreements arrive with the next sync)."""
        self.restage("opportunities", outcomes, "opportunity_id")

    # -- writes, each id stored as soon as it exists ----------------------------------------

    def _opportunity(self, row: Row, plan: QuotePlan) -> Record:
        tag = push_tag(row["push_key"])
        opportunity_id = row.get("opportunity_id")
        if not opportunity_id and row["resumed"]:
            opportunity_id = self._find_id(
                endpoints.OPPORTUNITIES, f"notes contains {literal(tag)}"
            )
        if opportunity_id:
            row["opportunity_id"] = int(opportunity_id)
            save_columns(
                self.context.engine, self.table, row["id"], {"opportunity_id": opportunity_id}
            )
            plan.outcome.columns["opportunity_id"] = int(opportunity_id)
            return self.context.get_record(
                endpoints.OPPORTUNITIES, int(opportunity_id), "opportunity (created for this quote)"
            )
        body = self._opportunity_body(row, tag)
        created = self.hook.post(endpoints.OPPORTUNITIES, body)
        row["opportunity_id"] = int(created["id"])
        save_columns(self.context.engine, self.table, row["id"], {"opportunity_id": created["id"]})
        plan.outcome.columns["opportunity_id"] = int(created["id"])
        plan.outcome.created += 1
        row["opportunity_is_new"] = True
        return created

    def _opportunity_body(self, row: Row, tag: str) -> Record:
        """Return the new opportunity: the quote's name, parties, close date and lookup tag."""
        stage_id, status_id = self.moves.get(row["quote_status"], (self.default_stage_id, None))
        close = (
            parse_datetime(str(row["expected_close_date"]))
            if row.get("expected_close_date")
            else utc_now() + timedelta(days=DEFAULT_CLOSE_DAYS)
        )
        source = self.context.settings.opportunity_defaults.source
        body: Record = {
            "name": row["name"],
            "company": {"id": row["company_id"]},
            "contact": {"id": row["contact_id"]},
            "primarySalesRep": {"id": self.sales_rep_id},
            "expectedCloseDate": format_datetime(close.replace(hour=0, minute=0, second=0)),
            "notes": f"{row['notes']}\n\n{tag}" if row.get("notes") else tag,
        }
        optional = {
            "stage": stage_id and {"id": stage_id},
            "status": status_id and {"id": status_id},
            "billingTerms": self.billing_terms_id and {"id": self.billing_terms_id},
            "source": source,
        }
        body.update({name: value for name, value in optional.items() if value})
        return body

    def _forecast(self, row: Row, opportunity: Record, lines: list[Row], plan: QuotePlan) -> None:
        missing = [line for line in lines if not line.get("forecast_item_id")]
        if not missing:
            return
        endpoint = f"{endpoints.OPPORTUNITIES}/{opportunity['id']}/forecast"
        existing = {} if row.get("opportunity_is_new") else self._forecast_items(endpoint)
        status = opportunity.get("status") or {}
        for line in missing:
            item_id = existing.get(line["line_number"])
            if item_id is None:
                product = plan.products[line["line_number"]]
                body: Record = {
                    "forecastType": "Product",
                    "opportunity": {"id": opportunity["id"]},
                    "catalogItem": {"id": product["id"]},
                    "productDescription": line.get("description") or product.get("description"),
                    "quantity": line["quantity"],
                    "revenue": _extended(line["quantity"], line["unit_price"]),
                    "sequenceNumber": line["line_number"],
                    "includeFlag": True,
                }
                if status.get("id"):
                    body["status"] = {"id": status["id"]}
                if line.get("unit_cost") is not None:
                    body["cost"] = _extended(line["quantity"], line["unit_cost"])
                answer = self.hook.post(endpoint, body)
                item_id = _by_line(forecast_items(answer)).get(line["line_number"])
                if item_id is None:
                    raise RowError(
                        f"line {line['line_number']}: ConnectWise did not return the created "
                        "forecast item"
                    )
                plan.outcome.created += 1
            self._save_line(row, line, forecast_item_id=item_id)

    def _forecast_items(self, endpoint: str) -> dict[int, int]:
        return _by_line(forecast_items(self.hook.get_json(endpoint)))

    def _move(self, row: Row, opportunity: Record, plan: QuotePlan) -> None:
        move = self.moves.get(row["quote_status"])
        if move is None:
            return  # unmapped quote statuses do not move the opportunity
        stage_id, status_id = move
        changes = {}
        if (opportunity.get("stage") or {}).get("id") != stage_id:
            changes["stage"] = {"id": stage_id}
        if (opportunity.get("status") or {}).get("id") != status_id:
            changes["status"] = {"id": status_id}
        if changes:
            self.hook.patch(
                f"{endpoints.OPPORTUNITIES}/{opportunity['id']}", replace_operations(changes)
            )
            plan.outcome.updated += 1

    def _agreement(self, row: Row, opportunity: Record, lines: list[Row], plan: QuotePlan) -> None:
        agreement_id = row.get("agreement_id") or plan.target_agreement_id
        if not agreement_id and not row.get("opportunity_is_new"):
            agreement_id = self._find_id(
                endpoints.AGREEMENTS, f"opportunity/id = {opportunity['id']}"
            )
        if not agreement_id:
            created = self.hook.post(
                endpoints.AGREEMENTS,
                {
                    "name": row["name"],
                    "type": {"id": plan.agreement_type_id},
                    "company": {"id": row["company_id"]},
                    "contact": {"id": row["contact_id"]},
                    "opportunity": {"id": opportunity["id"]},
                    "startDate": _today(),
                },
            )
            agreement_id = int(created["id"])
            plan.outcome.created += 1
            row["agreement_is_new"] = True
        save_columns(self.context.engine, self.table, row["id"], {"agreement_id": agreement_id})
        plan.outcome.columns["agreement_id"] = int(agreement_id)
        self._additions_of(row, int(agreement_id), opportunity, lines, plan)

    def _additions_of(
        self, row: Row, agreement_id: int, opportunity: Record, lines: list[Row], plan: QuotePlan
    ) -> None:
        """Add the quote lines not yet added to the agreement (found again by line number)."""
        missing = [line for line in lines if not line.get("addition_id")]
        if not missing:
            return
        endpoint = f"{endpoints.AGREEMENTS}/{agreement_id}/additions"
        existing = {} if row.get("agreement_is_new") else self._additions(endpoint, opportunity)
        for line in missing:
            addition_id = existing.get(line["line_number"])
            if addition_id is None:
                body = self._addition_body(line, opportunity, plan)
                addition_id = int(self.hook.post(endpoint, body)["id"])
                plan.outcome.created += 1
            self._save_line(row, line, addition_id=addition_id)

    def _addition_body(self, line: Row, opportunity: Record, plan: QuotePlan) -> Record:
        body: Record = {
            "product": {"id": plan.products[line["line_number"]]["id"]},
            "billCustomer": self.context.settings.addition_bill_customer,
            "quantity": line["quantity"],
            "unitPrice": line["unit_price"],
            "effectiveDate": _today(),
            "opportunity": {"id": opportunity["id"]},
            "sequenceNumber": line["line_number"],
        }
        if line.get("unit_cost") is not None:
            body["unitCost"] = line["unit_cost"]
        if line.get("description"):
            body["invoiceDescription"] = line["description"]
        return body

    def _additions(self, endpoint: str, opportunity: Record) -> dict[int, int]:
        # Additions this quote made carry its opportunity and their line number.
        found: dict[int, int] = {}
        for page in self.hook.paginate(
            endpoint,
            conditions=f"opportunity/id = {opportunity['id']}",
            fields=["id", "sequenceNumber"],
        ):
            found.update(
                {int(a["sequenceNumber"]): int(a["id"]) for a in page if a.get("sequenceNumber")}
            )
        return found

    # -- staging -----------------------------------------------------------------------------

    def _lines(self, row: Row) -> list[Row]:
        return rows_where(
            self.context.engine, "outbox_quote_lines", "quote_id", row["id"], "line_number"
        )

    def _save_line(self, row: Row, line: Row, **ids: Any) -> None:
        line.update(ids)
        keys = {"quote_id": row["id"], "line_number": line["line_number"]}
        save_columns_where(self.context.engine, "outbox_quote_lines", keys, ids)

    def _find_id(self, endpoint: str, conditions: str) -> int | None:
        found = self.hook.get_json(
            endpoint, params={"conditions": conditions, "fields": "id", "pageSize": 1}
        )
        return int(found[0]["id"]) if found else None


def forecast_items(answer: Any) -> list[Record]:
    """Return the items of a forecast answer.

    The spec says GET answers an array and POST one ``Forecast`` holding ``forecastItems``;
    which shape the live API uses is unconfirmed (API facts §7.11), so all are accepted: an
    item, an array of items, a Forecast, or an array of Forecasts.
    """
    documents = answer if isinstance(answer, list) else [answer]
    items: list[Record] = []
    for document in documents:
        if isinstance(document, dict) and "forecastItems" in document:
            items.extend(document["forecastItems"] or [])
        elif isinstance(document, dict):
            items.append(document)
    return items


def _by_line(items: list[Record]) -> dict[int, int]:
    # The push writes each line's number into sequenceNumber: the key a retry matches on.
    return {
        int(item["sequenceNumber"]): int(item["id"])
        for item in items
        if item.get("sequenceNumber") is not None and item.get("id") is not None
    }


def _today() -> str:
    """Return midnight UTC today, as ConnectWise writes dates."""
    return format_datetime(utc_now().replace(hour=0, minute=0, second=0))


def _extended(quantity: float | Decimal, amount: float | Decimal) -> Decimal:
    """Quantity times unit amount, to the cent, exact (an amount is a Decimal on PostgreSQL)."""
    total = Decimal(str(quantity)) * Decimal(str(amount))
    return total.quantize(CENTS, rounding=ROUND_HALF_UP)
