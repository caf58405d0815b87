"""The Issues page's data: groups of real gate rejections, fix texts, names and Re-process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from connectwise.entities import REGISTRY
from connectwise.issues import (
    CALLBACK_FIX,
    MALFORMED_RECORD_FIX,
    TYPE_FIX,
    UNKNOWN_FIX,
    display_name,
    fix_for,
    open_issues,
    reprocess_conf,
)
from connectwise.manual import plan_manual_sync
from connectwise.mapping.apply import RecordMapper
from connectwise.mapping.load import Mapping
from connectwise.quality.checks import CheckContext
from connectwise.quality.gate import QualityGate
from connectwise.staging.database import create_staging_engine
from connectwise.staging.migrations import migrate
from connectwise.staging.quarantine import quarantine
from connectwise.staging.records import Rejection
from sqlalchemy.engine import Engine

KNOWN_IDS = {"companies": {250}, "opportunity_statuses": {1}, "sales_stages": {5}}


@pytest.fixture
def engine(staging_url: str) -> Iterator[Engine]:
    database = create_staging_engine(staging_url)
    migrate(database)
    yield database
    database.dispose()


def rejected(mapping: Mapping, entity: str, *records: dict[str, Any]) -> list[Rejection]:
    rows, failures = RecordMapper(REGISTRY[entity], mapping).map_records(records)
    gate = QualityGate(REGISTRY[entity], CheckContext(mapping.config, KNOWN_IDS))
    return [*failures, *gate.split(rows)[1]]


def contact(record_id: int, email: str) -> dict[str, Any]:
    return {
        "id": record_id,
        "firstName": "Ada",
        "lastName": f"Lovelace {record_id}",
        "company": {"id": 250},
        "communicationItems": [{"communicationType": "Email", "value": email}],
    }


def opportunity(record_id: int, status: str = "Open", company_id: int = 250) -> dict[str, Any]:
    return {
        "id": record_id,
        "name": f"Deal {record_id}",
        "company": {"id": company_id},
        "status": {"id": 1, "name": status},
        "stage": {"id": 5, "name": "Quote"},
    }


def hold(engine: Engine, entity: str, rejections: list[Rejection]) -> None:
    with engine.begin() as connection:
        quarantine(connection, entity, rejections, "run-1")


def test_gate_rejections_group_by_problem_with_examples_and_fixes(
    engine: Engine, shipped_mapping: Mapping
) -> None:
    emails = rejected(shipped_mapping, "contacts", contact(1, "a@"), contact(2, "b at example"))
    deals = rejected(
        shipped_mapping,
        "opportunities",
        opportunity(10, "Pending Review"),
        opportunity(11, "Pending Review"),
        opportunity(12, "On Hold"),
        opportunity(13, company_id=404),
        opportunity(14, company_id=405),
    )
    hold(engine, "contacts", emails)
    hold(engine, "opportunities", deals)

    groups = {(group.entity, group.summary): group for group in open_issues(engine)}

    assert {key: group.count for key, group in groups.items()} == {
        ("contacts", "email is not a valid e-mail address"): 2,
        ("opportunities", "status 'Pending Review' is not mapped by opportunity_status_map"): 2,
        ("opportunities", "status 'On Hold' is not mapped by opportunity_status_map"): 1,
        ("opportunities", "company_id does not match any staged companies record"): 2,
    }
    email = groups["contacts", "email is not a valid e-mail address"]
    assert {(e.record_id, e.name, e.value) for e in email.examples} == {
        (1, "Ada Lovelace 1", "a@"),
        (2, "Ada Lovelace 2", "b at example"),
    }
    assert not email.reprocess_helps and "Correct the e-mail address in ConnectWise" in email.fix
    pending = groups[
        "opportunities", "status 'Pending Review' is not mapped by opportunity_status_map"
    ]
    assert pending.check == "mapped_value" and pending.reprocess_helps
    assert "opportunity_status_map" in pending.fix and "Re-process" in pending.fix
    assert {example.value for example in pending.examples} == {"Pending Review"}
    assert pending.reprocess_conf == {"data_types": ["opportunities"], "mode": "remap"}
    reference = groups["opportunities", "company_id does not match any staged companies record"]
    assert reference.reprocess_helps and reference.fix.startswith("Sync companies first")
    assert {example.value for example in reference.examples} == {"404", "405"}


def test_a_record_failing_several_checks_gets_every_fix_and_reprocess_only_if_all_help(
    engine: Engine, shipped_mapping: Mapping
) -> None:
    record = {**opportunity(20, "Pending Review"), "name": None}
    hold(engine, "opportunities", rejected(shipped_mapping, "opportunities", record))

    [group] = open_issues(engine)

    assert group.check == "not_null,mapped_value"
    assert group.summary == (
        "name is missing; status 'Pending Review' is not mapped by opportunity_status_map"
    )
    assert "Fill in the record's name in ConnectWise" in group.fix
    assert "opportunity_status_map" in group.fix
    assert not group.reprocess_helps


@pytest.mark.parametrize(
    ("entity", "check", "problem", "helps", "says"),
    [
        ("catalog_items", "non_negative", "price is negative", False, "Correct the negative price"),
        (
            "companies",
            "not_null",
            "identifier is missing",
            False,
            "Fill in the record's identifier",
        ),
        ("opportunities", "mapped_value", "status is missing", False, "Set the record's status"),
        (
            "catalog_items",
            "mapped_value",
            "product state 'Inactive' is not mapped by product_status_map",
            True,
            "Add the ConnectWise value to product_status_map",
        ),
        (
            "opportunities",
            "reference",
            "company_id does not match any staged companies record",
            True,
            "Sync companies first",
        ),
        ("contacts", "unique", "id appears more than once in the same page", True, "Re-process"),
    ],
)
def test_each_check_says_how_to_fix_its_problem(
    entity: str, check: str, problem: str, helps: bool, says: str
) -> None:
    fix = fix_for(entity, check, problem)

    assert says in fix.text
    assert fix.reprocess_helps is helps
    assert ("Re-process will not help" in fix.text) is not helps


@pytest.mark.parametrize(
    ("entity", "check", "problem", "expected"),
    [
        ("contacts", "mapping", "column 'email': the value is not a valid integer", TYPE_FIX),
        ("contacts", "mapping", "record has no usable 'id'", MALFORMED_RECORD_FIX),
        ("contacts", "callback_delivery", "gave up after 5 attempts: 503", CALLBACK_FIX),
        ("tickets", "not_null", "summary is missing", UNKNOWN_FIX),
        ("contacts", "not_null", "a problem no check writes", UNKNOWN_FIX),
    ],
)
def test_problems_no_check_wrote_get_the_fix_of_their_kind(
    entity: str, check: str, problem: str, expected: Any
) -> None:
    assert fix_for(entity, check, problem) == expected


@pytest.mark.parametrize(
    ("payload", "name"),
    [
        ({"id": 1, "name": "Acme", "identifier": "ACME"}, "Acme"),
        ({"id": 1, "firstName": "Ada", "lastName": "Lovelace"}, "Ada Lovelace"),
        ({"id": 1, "firstName": "Ada", "identifier": "ada"}, "Ada"),
        ({"id": 1, "identifier": "SKU-1", "description": "Widget"}, "SKU-1"),
        ({"id": 1, "description": "Monthly backup"}, "Monthly backup"),
        ({"id": 1, "product": {"id": 7, "identifier": "BACKUP"}}, "BACKUP"),
        ({"id": 1, "name": ""}, None),
        ({"inbox_id": 3, "action": "updated", "record_id": 1}, None),
        ([1, 2], None),
        ("not a record", None),
    ],
)
def test_a_record_is_named_from_its_payload(payload: Any, name: str | None) -> None:
    assert display_name(payload) == name


@pytest.mark.parametrize("entity", ["opportunities", "contacts", "agreement_additions"])
def test_the_reprocess_conf_plans_a_remap_of_that_entity_alone(entity: str) -> None:
    plan = plan_manual_sync(reprocess_conf(entity))

    assert plan.mode == "remap"
    assert plan.planned() == [entity]
    assert plan.mode_of(entity) == "remap" and plan.dependencies == ()
