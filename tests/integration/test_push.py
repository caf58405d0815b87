"""Write-back against the simulator over HTTP, on SQLite and PostgreSQL: each flow writes the
right ConnectWise records, skips and failures carry their reasons, retries never duplicate."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from connectwise.staging.database import is_postgres
from connectwise.staging.writer import sql_value

from tests.support import ROOT

STAGE_MAP = 'sales_stage_map: {"1.Prospect": Prospecting, "3.Quote": Quoted, "5.Close": Closing}'
# The addresses issue 17 found written to ConnectWise, and ones that must keep passing.
BAD_EMAILS = ("@", "a@", "x@y", "a b@c.com", "a@b@c.com", "not-an-email@@example")
GOOD_EMAILS = ("first.last+tag@sub.example.co.uk", "üser@exämple.de")


@dataclass
class Push:
    """A simulator, a migrated staging database and the job that pushes into one from the other."""

    sim: Any
    engine: sa.Engine
    job: Any

    def run(self, flow: str, run_id: str = "push-1") -> dict[str, Any]:
        from connectwise.push.runner import run_push

        job = self.job
        return run_push(job, flow, run_id=run_id)

    def add(self, table: str, **values: Any) -> int:
        outbox = sa.Table(table, sa.MetaData(), autoload_with=self.engine)
        with self.engine.begin() as connection:
            if "id" not in outbox.c:
                connection.execute(outbox.insert(), values)
                return 0
            return int(connection.execute(outbox.insert().returning(outbox.c.id), values).scalar())

    def change(self, table: str, row_id: int, **values: Any) -> None:
        outbox = sa.Table(table, sa.MetaData(), autoload_with=self.engine)
        with self.engine.begin() as connection:
            connection.execute(outbox.update().where(outbox.c.id == row_id).values(**values))

    def row(self, table: str, row_id: int) -> dict[str, Any]:
        with self.engine.connect() as connection:
            found = connection.execute(
                sa.text(f"SELECT * FROM {table} WHERE id = :id"), {"id": row_id}
            ).mappings()
            return dict(found.one())

    def lines(self, quote_id: int) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            result = connection.execute(
                sa.text(
                    "SELECT * FROM outbox_quote_lines WHERE quote_id = :q ORDER BY line_number"
                ),
                {"q": quote_id},
            )
            return [dict(line) for line in result.mappings()]

    def truth(self, path: str, record_id: int) -> dict[str, Any]:
        return next(record for record in self.sim.truth(path) if record["id"] == record_id)

    def tagged(self, path: str, push_key: str) -> list[dict[str, Any]]:
        return [r for r in self.sim.truth(path) if f"[cw-push {push_key}]" in (r["notes"] or "")]


@pytest.fixture
def push(simulator, cw_connection, staging_url, tmp_path: Path) -> Push:
    from connectwise import jobs
    from connectwise.staging.database import create_staging_engine

    cw_connection(simulator)
    mapping = tmp_path / "mapping.yaml"
    shipped = (ROOT / "include/mappings/connectwise.yaml").read_text()
    # Uncertain writes are due again at once, so a test's next run retries them.
    mapping.write_text(
        shipped.replace("sales_stage_map: {}", STAGE_MAP).replace(
            "retry_delay_seconds: 300", "retry_delay_seconds: 0"
        )
    )
    engine = create_staging_engine(staging_url)
    job = jobs.open_job(mapping_path=str(mapping), engine=engine)
    return Push(simulator, engine, job)


def customer_company(sim) -> dict[str, Any]:
    """A company whose contacts pass the shipped contact filter (Customer, Prospect, Suspect)."""
    return next(
        company
        for company in sim.truth("company/companies")
        if {t["name"] for t in company["types"]} & {"Customer", "Prospect", "Suspect"}
    )


def emails_of(contact: dict[str, Any]) -> list[str]:
    return [i["value"] for i in contact["communicationItems"] if i["communicationType"] == "Email"]


def stage_contacts(push: Push) -> None:
    from connectwise import jobs

    jobs.run_sync(push.job, "contacts", mode="full", run_id="initial")


def reconfigure(push: Push, tmp_path: Path, old: str, new: str) -> None:
    """Reopen the push's job with one change to its mapping file."""
    from connectwise import jobs

    mapping = tmp_path / "mapping.yaml"
    text = mapping.read_text()
    assert old in text
    mapping.write_text(text.replace(old, new))
    push.job = jobs.open_job(mapping_path=str(mapping), engine=push.engine)


def posts(push: Push, path: str) -> int:
    """How many POSTs the simulator answered on ``path``."""
    return push.sim.stats()["by_endpoint"].get(f"POST {path}", 0)


def as_utc(value: Any) -> datetime:
    """A timestamp column as an aware datetime (SQLite keeps ISO-8601 text)."""
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# -- contacts ---------------------------------------------------------------------------------


def test_contact_is_created_then_matched_by_email_and_updated_and_staged(push):
    company = customer_company(push.sim)
    first = push.add(
        "outbox_contacts",
        company_id=company["id"],
        first_name="Ada",
        last_name="Lovelace",
        title="CTO",
        email="ada@example.com",
        phone="5551234",
    )
    assert push.run("contacts")["sent"] == 1
    row = push.row("outbox_contacts", first)
    assert row["status"] == "sent" and row["attempts"] == 1 and row["sent_at"] is not None
    contact = push.truth("company/contacts", row["contact_id"])
    assert (contact["firstName"], contact["lastName"], contact["title"]) == (
        "Ada",
        "Lovelace",
        "CTO",
    )
    assert contact["company"]["id"] == company["id"]
    assert emails_of(contact) == ["ada@example.com"]
    assert [
        i["value"] for i in contact["communicationItems"] if i["communicationType"] == "Phone"
    ] == ["5551234"]
    with push.engine.connect() as connection:
        staged = connection.execute(
            sa.text("SELECT first_name, email, company_id FROM stg_contacts WHERE id = :id"),
            {"id": row["contact_id"]},
        ).one()
    assert tuple(staged) == ("Ada", "ada@example.com", company["id"])

    second = push.add(
        "outbox_contacts",
        company_identifier=company["identifier"],
        title="CEO",
        email="ada@example.com",
        company_fields=json.dumps({"phone_number": "5550000"}),
    )
    figures = push.run("contacts", run_id="push-2")
    assert (figures["sent"], figures["created"]) == (1, 0)
    assert push.row("outbox_contacts", second)["contact_id"] == row["contact_id"]
    same = [c for c in push.sim.truth("company/contacts") if "ada@example.com" in emails_of(c)]
    assert len(same) == 1 and same[0]["title"] == "CEO" and same[0]["firstName"] == "Ada"
    assert push.truth("company/companies", company["id"])["phoneNumber"] == "5550000"


def test_contact_validation_and_connectwise_refusals_fail_the_row_with_the_reason(push):
    company = customer_company(push.sim)
    before = len(push.sim.truth("company/contacts"))
    no_company = push.add("outbox_contacts", first_name="No", email="no@example.com")
    bad_email = push.add(
        "outbox_contacts", company_id=company["id"], first_name="X", email="x at y"
    )
    missing = push.add("outbox_contacts", company_id=999_999, first_name="Y", email="y@example.com")
    too_long = push.add(
        "outbox_contacts",
        company_id=company["id"],
        first_name="Long",
        email="long@example.com",
        title="T" * 150,
    )
    figures = push.run("contacts")
    assert (figures["failed"], figures["sent"]) == (4, 0)
    errors = {
        key: push.row("outbox_contacts", key)["last_error"]
        for key in (no_company, bad_email, missing, too_long)
    }
    assert errors[no_company] == "give company_id or company_identifier"
    assert "'x at y' is not a valid e-mail address" in errors[bad_email]
    assert errors[missing] == "company 999999 does not exist in ConnectWise"
    # Not a documented limit, so ConnectWise's own 400 message is what the row keeps.
    assert "The title field cannot be longer than 100 characters" in errors[too_long]
    assert all(push.row("outbox_contacts", k)["status"] == "failed" for k in errors)
    assert len(push.sim.truth("company/contacts")) == before


# -- to-dos -----------------------------------------------------------------------------------


def test_todo_becomes_an_activity_that_edits_update_and_closing_closes(push):
    stage_contacts(push)
    with push.engine.connect() as connection:
        contact_id, email = connection.execute(
            sa.text("SELECT id, email FROM stg_contacts WHERE email IS NOT NULL ORDER BY id")
        ).first()
    todo = push.add(
        "outbox_todos",
        contact_email=email.upper(),
        subject="Call back",
        notes="About the quote",
        due_at=sql_value(datetime(2026, 12, 1, 15, tzinfo=UTC), postgres=is_postgres(push.engine)),
    )
    assert push.run("todos")["sent"] == 1
    row = push.row("outbox_todos", todo)
    activity = push.truth("sales/activities", row["activity_id"])
    contact = push.truth("company/contacts", contact_id)
    assert activity["name"] == "Call back"
    assert activity["assignTo"]["identifier"] == "admin"
    assert activity["contact"]["id"] == contact_id
    assert activity["company"]["id"] == contact["company"]["id"]
    assert activity["status"]["name"] == "Open" and activity["type"]["name"] == "Task"
    assert activity["dateStart"] == "2026-12-01T15:00:00Z"
    assert activity["notes"].startswith("About the quote")

    push.change("outbox_todos", todo, subject="Call back on Monday", status="pending")
    push.run("todos", run_id="push-2")
    assert push.truth("sales/activities", row["activity_id"])["name"] == "Call back on Monday"
    push.change("outbox_todos", todo, is_closed=True, status="pending")
    figures = push.run("todos", run_id="push-3")
    assert (figures["sent"], figures["created"], figures["updated"]) == (1, 0, 1)
    assert push.truth("sales/activities", row["activity_id"])["status"]["name"] == "Closed"
    assert len(push.tagged("sales/activities", row["push_key"])) == 1


def test_todos_for_contacts_missing_on_one_side_are_skipped_with_the_reason(push):
    stage_contacts(push)
    with push.engine.connect() as connection:
        staged = {int(r[0]) for r in connection.execute(sa.text("SELECT id FROM stg_contacts"))}
    unstaged = next(c["id"] for c in push.sim.truth("company/contacts") if c["id"] not in staged)
    gone = min(staged)
    push.job.hook.delete(f"company/contacts/{gone}")
    before = len(push.sim.truth("sales/activities"))
    only_cw = push.add("outbox_todos", contact_id=unstaged, subject="Only in ConnectWise")
    only_staged = push.add("outbox_todos", contact_id=gone, subject="Only in staging")
    nowhere = push.add("outbox_todos", contact_email="nobody@example.com", subject="Nowhere")
    figures = push.run("todos")
    assert (figures["skipped"], figures["sent"]) == (3, 0)
    assert (
        f"contact {unstaged} is not in staging" in push.row("outbox_todos", only_cw)["last_error"]
    )
    assert (
        f"contact {gone} is not in ConnectWise"
        in push.row("outbox_todos", only_staged)["last_error"]
    )
    assert (
        "'nobody@example.com' is not in staging" in push.row("outbox_todos", nowhere)["last_error"]
    )
    assert all(
        push.row("outbox_todos", k)["status"] == "skipped" for k in (only_cw, only_staged, nowhere)
    )
    assert len(push.sim.truth("sales/activities")) == before


def test_contacts_with_malformed_emails_fail_with_the_reason_and_are_never_posted(push):
    company = customer_company(push.sim)
    keys = {
        email: push.add("outbox_contacts", company_id=company["id"], first_name="Bad", email=email)
        for email in BAD_EMAILS
    }
    figures = push.run("contacts")
    assert (figures["failed"], figures["sent"], figures["created"]) == (len(BAD_EMAILS), 0, 0)
    for email, key in keys.items():
        row = push.row("outbox_contacts", key)
        assert row["status"] == "failed"
        assert row["last_error"].startswith(f"email {email!r} is not a valid e-mail address: ")
    assert posts(push, "company/contacts") == 0


def test_contacts_with_international_and_plus_addressed_emails_are_created_as_given(push):
    company = customer_company(push.sim)
    keys = [
        push.add("outbox_contacts", company_id=company["id"], first_name="Good", email=email)
        for email in GOOD_EMAILS
    ]
    figures = push.run("contacts")
    assert (figures["sent"], figures["created"]) == (2, 2)
    for key, email in zip(keys, GOOD_EMAILS, strict=True):
        contact_id = push.row("outbox_contacts", key)["contact_id"]
        assert emails_of(push.truth("company/contacts", contact_id)) == [email]
        with push.engine.connect() as connection:
            staged = connection.execute(
                sa.text("SELECT email FROM stg_contacts WHERE id = :id"), {"id": contact_id}
            ).scalar()
        assert staged == email  # passed the quality gate, stored as given


# -- lost responses ---------------------------------------------------------------------------


def new_contact_and_todo(push: Push, first_name: str, email: str, subject: str) -> tuple[int, int]:
    """Outbox rows of one new contact and of one to-do for a staged contact: their keys."""
    stage_contacts(push)
    company = customer_company(push.sim)
    with push.engine.connect() as connection:
        contact_id = connection.execute(sa.text("SELECT MIN(id) FROM stg_contacts")).scalar()
    contact_row = push.add(
        "outbox_contacts", company_id=company["id"], first_name=first_name, email=email
    )
    return contact_row, push.add("outbox_todos", contact_id=contact_id, subject=subject)


def test_a_lost_create_response_is_retried_without_a_duplicate(push):
    contact_row, todo = new_contact_and_todo(push, "Lost", "lost@example.com", "Lost response")
    for flow, table, key in (
        ("contacts", "outbox_contacts", contact_row),
        ("todos", "outbox_todos", todo),
    ):
        push.sim.set_faults(lost_write_responses=1)
        first = push.run(flow, run_id=f"{flow}-1")
        assert (first["in_flight"], first["sent"]) == (1, 0)
        assert push.row(table, key)["status"] == "sending"
        second = push.run(flow, run_id=f"{flow}-2")
        assert (second["sent"], second["created"]) == (1, 0)  # found, not created again
        assert push.sim.stats()["faults"]["lost_write"] >= 1
    assert (
        len([c for c in push.sim.truth("company/contacts") if "lost@example.com" in emails_of(c)])
        == 1
    )
    activities = push.tagged("sales/activities", push.row("outbox_todos", todo)["push_key"])
    assert [a["id"] for a in activities] == [push.row("outbox_todos", todo)["activity_id"]]


# -- 5xx on a write ---------------------------------------------------------------------------


def test_a_5xx_after_the_create_was_applied_is_retried_without_a_duplicate(push):
    contact_row, todo = new_contact_and_todo(push, "Gate", "gate@example.com", "Gateway timeout")
    for flow, table, key, status in (
        ("contacts", "outbox_contacts", contact_row, 502),
        ("todos", "outbox_todos", todo, 504),
    ):
        push.sim.set_faults(write_errors_after=1, write_error_status=status)
        first = push.run(flow, run_id=f"{flow}-1")
        row = push.row(table, key)
        assert (first["in_flight"], first["failed"], first["sent"]) == (1, 0, 0)
        assert (row["status"], row["attempts"]) == ("sending", 1)
        assert f"answered {status} after the request was sent" in row["last_error"]
        assert row["next_attempt_at"] is not None
        second = push.run(flow, run_id=f"{flow}-2")
        row = push.row(table, key)
        assert (second["sent"], second["created"]) == (1, 0)  # found by its key, not re-created
        assert (row["status"], row["attempts"], row["next_attempt_at"]) == ("sent", 2, None)
    assert push.sim.stats()["faults"]["write_5xx"] == 2
    gate = [c for c in push.sim.truth("company/contacts") if "gate@example.com" in emails_of(c)]
    assert [c["id"] for c in gate] == [push.row("outbox_contacts", contact_row)["contact_id"]]
    activities = push.tagged("sales/activities", push.row("outbox_todos", todo)["push_key"])
    assert [a["id"] for a in activities] == [push.row("outbox_todos", todo)["activity_id"]]


def assert_one_opportunity_with_its_lines(push: Push, row: dict[str, Any], lines: int) -> None:
    """The quote's push key tags exactly its opportunity, which has ``lines`` forecast lines."""
    assert [o["id"] for o in push.tagged("sales/opportunities", row["push_key"])] == [
        row["opportunity_id"]
    ]
    items = [
        i
        for i in push.sim.truth("sales/opportunities/forecast")
        if i["opportunity"]["id"] == row["opportunity_id"]
    ]
    assert len(items) == lines


def test_a_quote_whose_opportunity_create_got_a_500_continues_without_duplicates(push):
    quote = add_quote(push, "approved", active_products(push.sim, 2))
    push.sim.set_faults(write_errors_after=1, write_error_status=500)
    assert push.run("quotes")["in_flight"] == 1
    assert push.row("outbox_quotes", quote)["opportunity_id"] is None  # its answer never came
    second = push.run("quotes", run_id="push-2")
    row = push.row("outbox_quotes", quote)
    assert second["sent"] == 1, row["last_error"]
    assert_one_opportunity_with_its_lines(push, row, lines=2)


def test_a_503_before_the_create_waits_out_its_back_off_then_creates_once(push, tmp_path):
    reconfigure(push, tmp_path, "retry_delay_seconds: 0", "retry_delay_seconds: 300")
    company = customer_company(push.sim)
    key = push.add(
        "outbox_contacts", company_id=company["id"], first_name="Later", email="later@example.com"
    )
    push.sim.set_faults(write_errors_before=1, write_error_status=503)
    assert push.run("contacts")["in_flight"] == 1
    row = push.row("outbox_contacts", key)
    assert row["status"] == "sending" and "answered 503" in row["last_error"]
    wait = (as_utc(row["next_attempt_at"]) - datetime.now(UTC)).total_seconds()
    assert 240 < wait <= 300
    assert push.run("contacts", run_id="push-2")["rows_claimed"] == 0  # not due yet
    assert posts(push, "company/contacts") == 1
    push.change("outbox_contacts", key, next_attempt_at=None)  # as if the wait were over
    third = push.run("contacts", run_id="push-3")
    assert (third["sent"], third["created"]) == (1, 1)
    assert (
        len([c for c in push.sim.truth("company/contacts") if "later@example.com" in emails_of(c)])
        == 1
    )


def test_a_row_fails_only_after_max_attempts_of_5xx_and_a_reset_starts_again(push, tmp_path):
    reconfigure(push, tmp_path, "max_attempts: 5", "max_attempts: 3")
    company = customer_company(push.sim)
    key = push.add(
        "outbox_contacts", company_id=company["id"], first_name="Down", email="down@example.com"
    )
    push.sim.set_faults(write_errors_before=3, write_error_status=500)
    for attempt in (1, 2):
        figures = push.run("contacts", run_id=f"push-{attempt}")
        row = push.row("outbox_contacts", key)
        assert (figures["in_flight"], row["status"], row["attempts"]) == (1, "sending", attempt)
    third = push.run("contacts", run_id="push-3")
    row = push.row("outbox_contacts", key)
    assert (third["failed"], row["status"], row["attempts"]) == (1, "failed", 3)
    assert row["last_error"].startswith("gave up after 3 attempts; last error: POST company/")
    assert "answered 500 (ConnectWise said: An error has occurred.)" in row["last_error"]
    assert row["next_attempt_at"] is None
    assert posts(push, "company/contacts") == 3
    push.change("outbox_contacts", key, status="pending")  # the operator's reset
    fourth = push.run("contacts", run_id="push-4")
    row = push.row("outbox_contacts", key)
    assert (fourth["sent"], fourth["created"], row["attempts"]) == (1, 1, 1)
    assert (
        len([c for c in push.sim.truth("company/contacts") if "down@example.com" in emails_of(c)])
        == 1
    )


def test_a_4xx_on_a_create_fails_the_row_at_once(push):
    company = customer_company(push.sim)
    key = push.add(
        "outbox_contacts",
        company_id=company["id"],
        first_name="Refused",
        email="refused@example.com",
        title="T" * 150,  # ConnectWise answers 400
    )
    assert push.run("contacts")["failed"] == 1
    row = push.row("outbox_contacts", key)
    assert (row["status"], row["attempts"], row["next_attempt_at"]) == ("failed", 1, None)
    assert "returned 400" in row["last_error"]
    assert posts(push, "company/contacts") == 1


# -- quotes -----------------------------------------------------------------------------------


def add_quote(push: Push, status: str, products: list[int], **values: Any) -> int:
    opportunity = next(o for o in push.sim.truth("sales/opportunities") if o["contact"])
    quote = push.add(
        "outbox_quotes",
        name=values.pop("name", "Laptop refresh"),
        company_id=opportunity["company"]["id"],
        contact_id=opportunity["contact"]["id"],
        quote_status=status,
        **values,
    )
    for number, product in enumerate(products, start=1):
        push.add(
            "outbox_quote_lines",
            quote_id=quote,
            line_number=number,
            product_id=product,
            quantity=number + 1,
            unit_price=100.0 * number + 0.1234,  # four places: stored and sent exactly
            unit_cost=60.0 * number,
        )
    return quote


def active_products(sim, count: int) -> list[int]:
    return [p["id"] for p in sim.truth("procurement/catalog") if not p["inactiveFlag"]][:count]


def test_approved_quote_becomes_opportunity_with_lines_and_a_new_agreement(push):
    products = active_products(push.sim, 2)
    quote = add_quote(push, "approved", products, agreement_type="subscription")
    figures = push.run("quotes")
    assert figures["sent"] == 1, push.row("outbox_quotes", quote)["last_error"]
    row = push.row("outbox_quotes", quote)
    opportunity = push.truth("sales/opportunities", row["opportunity_id"])
    assert opportunity["name"] == "Laptop refresh"
    assert (opportunity["company"]["id"], opportunity["contact"]["id"]) == (
        row["company_id"],
        row["contact_id"],
    )
    assert opportunity["stage"]["name"] == "5.Close" and opportunity["status"]["name"] == "Won"
    assert opportunity["primarySalesRep"]["identifier"] == "admin"
    assert opportunity["source"] == "Quote" and opportunity["billingTerms"]["name"] == "Net 30"
    items = {
        i["id"]: i
        for i in push.sim.truth("sales/opportunities/forecast")
        if i["opportunity"]["id"] == opportunity["id"]
    }
    lines = push.lines(quote)
    assert set(items) == {line["forecast_item_id"] for line in lines}
    for line in lines:
        item = items[line["forecast_item_id"]]
        assert item["catalogItem"]["id"] == line["product_id"]
        assert item["quantity"] == line["quantity"]
        assert item["revenue"] == round(line["quantity"] * float(line["unit_price"]), 2)
    agreement = push.truth("finance/agreements", row["agreement_id"])
    assert agreement["type"]["name"] == "Software Subscription"
    assert agreement["opportunity"]["id"] == opportunity["id"]
    additions = {
        a["id"]: a
        for a in push.sim.truth("finance/agreements/additions")
        if a["agreementId"] == agreement["id"]
    }
    assert set(additions) == {line["addition_id"] for line in lines}
    for line in lines:
        addition = additions[line["addition_id"]]
        assert addition["product"]["id"] == line["product_id"]
        assert (addition["quantity"], addition["unitPrice"]) == (
            line["quantity"],
            float(line["unit_price"]),
        )


def test_quote_status_moves_its_opportunity_through_the_quote_status_map(push):
    quote = add_quote(push, "draft", active_products(push.sim, 1))
    push.run("quotes")
    opportunity_id = push.row("outbox_quotes", quote)["opportunity_id"]
    draft = push.truth("sales/opportunities", opportunity_id)
    moves = [(draft["stage"]["name"], draft["status"]["name"])]
    for status in ("sent", "declined"):
        push.change("outbox_quotes", quote, quote_status=status, status="pending")
        push.run("quotes", run_id=f"push-{status}")
        record = push.truth("sales/opportunities", opportunity_id)
        moves.append((record["stage"]["name"], record["status"]["name"]))
    assert moves == [("2.Qualification", "Open"), ("3.Quote", "Open"), ("5.Close", "Lost")]
    assert (
        len(push.tagged("sales/opportunities", push.row("outbox_quotes", quote)["push_key"])) == 1
    )
    assert push.row("outbox_quotes", quote)["agreement_id"] is None  # only approved quotes


def test_addition_mode_adds_the_lines_to_the_company_agreement(push, tmp_path):
    from connectwise import jobs

    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        mapping.read_text().replace("agreement_mode: new_agreement", "agreement_mode: addition")
    )
    push.job = jobs.open_job(mapping_path=str(mapping), engine=push.engine)
    agreement = next(
        a
        for a in push.sim.truth("finance/agreements")
        if a["agreementStatus"] == "Active" and not a["cancelledFlag"] and a["contact"]
    )
    agreements_before = len(push.sim.truth("finance/agreements"))
    quote = push.add(
        "outbox_quotes",
        name="More licences",
        company_id=agreement["company"]["id"],
        contact_id=agreement["contact"]["id"],
        quote_status="approved",
    )
    push.add(
        "outbox_quote_lines",
        quote_id=quote,
        line_number=1,
        product_id=active_products(push.sim, 1)[0],
        quantity=5,
        unit_price=22.0,
    )
    assert push.run("quotes")["sent"] == 1, push.row("outbox_quotes", quote)["last_error"]
    assert len(push.sim.truth("finance/agreements")) == agreements_before
    row, (line,) = push.row("outbox_quotes", quote), push.lines(quote)
    addition = push.truth("finance/agreements/additions", line["addition_id"])
    assert addition["agreementId"] == row["agreement_id"]
    assert (
        push.truth("finance/agreements", row["agreement_id"])["company"]["id"]
        == agreement["company"]["id"]
    )
    assert (addition["quantity"], addition["unitPrice"], addition["billCustomer"]) == (
        5,
        22.0,
        "Billable",
    )


def test_invalid_quote_fails_readably_with_nothing_written(push):
    opportunities = len(push.sim.truth("sales/opportunities"))
    quote = add_quote(push, "approved", [999_999], name="N" * 120, agreement_type="platinum")
    assert push.run("quotes")["failed"] == 1
    row = push.row("outbox_quotes", quote)
    assert row["status"] == "failed" and row["opportunity_id"] is None
    assert "name has 120 characters; ConnectWise allows at most 100" in row["last_error"]
    assert "agreement_type 'platinum' is not in push.agreement_type_map" in row["last_error"]
    assert "line 1: product 999999 is not in the catalog" in row["last_error"]
    assert len(push.sim.truth("sales/opportunities")) == opportunities


def test_quote_interrupted_by_a_lost_response_continues_without_duplicates(push):
    quote = add_quote(push, "approved", active_products(push.sim, 2))
    push.sim.set_faults(lost_write_responses=1)  # the opportunity is created, its answer lost
    assert push.run("quotes")["in_flight"] == 1
    second = push.run("quotes", run_id="push-2")
    assert second["sent"] == 1, push.row("outbox_quotes", quote)["last_error"]
    row = push.row("outbox_quotes", quote)
    assert_one_opportunity_with_its_lines(push, row, lines=2)
    assert (
        len(
            [
                a
                for a in push.sim.truth("finance/agreements")
                if (a["opportunity"] or {}).get("id") == row["opportunity_id"]
            ]
        )
        == 1
    )


# -- stage changes ----------------------------------------------------------------------------


def test_stage_changes_go_through_the_maps_and_unmapped_stages_are_reported_and_left_alone(push):
    from connectwise import jobs
    from connectwise.entities import REGISTRY

    for entity in REGISTRY.in_dependency_order():  # what staged opportunities refer to
        if entity.name == "opportunities":
            break
        jobs.run_sync(push.job, entity.name, mode="full", run_id="initial")
    with push.engine.connect() as connection:
        staged = {int(r[0]) for r in connection.execute(sa.text("SELECT id FROM stg_contacts"))}
    # The first opportunity's references are staged, so its re-staged row passes the checks.
    first, second = [
        o for o in push.sim.truth("sales/opportunities") if (o["contact"] or {}).get("id") in staged
    ][:2]
    mapped = push.add(
        "outbox_opportunity_stages",
        opportunity_id=first["id"],
        stage="Quoted",
        opportunity_status="Lost",
    )
    unmapped = push.add(
        "outbox_opportunity_stages", opportunity_id=second["id"], stage="Negotiating"
    )
    figures = push.run("stages")
    assert (figures["sent"], figures["skipped"]) == (1, 1)
    assert push.row("outbox_opportunity_stages", mapped)["status"] == "sent"
    record = push.truth("sales/opportunities", first["id"])
    assert (record["stage"]["name"], record["status"]["name"]) == ("3.Quote", "Lost")
    assert push.truth("sales/opportunities", second["id"]) == second
    reason = push.row("outbox_opportunity_stages", unmapped)["last_error"]
    assert "unmapped stage 'Negotiating'" in reason and "was not updated" in reason
    with push.engine.connect() as connection:
        report = connection.execute(
            sa.text("SELECT report, skipped FROM meta_push_runs WHERE flow = 'stages'")
        ).one()
        staged_stage = connection.execute(
            sa.text("SELECT stage FROM stg_opportunities WHERE id = :id"), {"id": first["id"]}
        ).scalar()
    assert "unmapped stage 'Negotiating'" in report[0] and report[1] == 1
    assert staged_stage == "Quoted"


def test_a_post_whose_response_is_lost_is_not_retried_blindly(push):
    from connectwise.errors import ConnectWiseTransientError

    push.sim.set_faults(lost_write_responses=1)
    with pytest.raises(ConnectWiseTransientError, match="must look the record up"):
        push.job.hook.post("company/contacts", {"firstName": "Once"})
    assert len([c for c in push.sim.truth("company/contacts") if c["firstName"] == "Once"]) == 1


def test_unknown_push_names_fail_the_run_before_any_row_is_touched(push, tmp_path):
    from connectwise import jobs
    from connectwise.errors import ConnectWiseMappingError

    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        mapping.read_text().replace("activity_member: admin", "activity_member: nobody")
    )
    push.job = jobs.open_job(mapping_path=str(mapping), engine=push.engine)
    todo = push.add("outbox_todos", contact_id=2, subject="Never sent")
    with pytest.raises(ConnectWiseMappingError, match=r"push\.activity_member: no active Connect"):
        push.run("todos")
    assert push.row("outbox_todos", todo)["status"] == "pending"
