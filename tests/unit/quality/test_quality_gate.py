"""The quality gate with real Great Expectations: which rows pass and why the others do not.

Building a gate is cheap but importing GX is not, so each entity's gate is built once per module
and reused; a gate keeps no state between chunks.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from connectwise.entities import REGISTRY
from connectwise.mapping.apply import RecordMapper
from connectwise.mapping.load import Mapping, load_mapping
from connectwise.quality.checks import CheckContext
from connectwise.quality.gate import QualityGate

Row = dict[str, Any]

KNOWN_IDS = {
    "categories": {1, 2},
    "subcategories": {10},
    "manufacturers": {20},
    "product_types": {30},
    "companies": {250},
    "company_statuses": {1},
    "opportunity_statuses": {1, 2},
    "sales_stages": {5},
}


def make_gate(entity_name: str, mapping: Mapping) -> QualityGate:
    return QualityGate(REGISTRY[entity_name], CheckContext(mapping.config, KNOWN_IDS))


def map_rows(entity_name: str, mapping: Mapping, *records: dict[str, Any]) -> list[Row]:
    rows, rejections = RecordMapper(REGISTRY[entity_name], mapping).map_records(records)
    assert rejections == []
    return rows


def make_contact(
    record_id: int = 1, *, first_name: str | None = "Ada", email: str | None = None
) -> dict[str, Any]:
    items = (
        []
        if email is None
        else [{"communicationType": "Email", "value": email, "defaultFlag": True}]
    )
    return {
        "id": record_id,
        "firstName": first_name,
        "company": {"id": 250},
        "communicationItems": items,
        "inactiveFlag": False,
    }


def make_catalog_item(
    record_id: int = 1, *, price: float = 10.0, cost: float = 4.0, category_id: int = 1
) -> dict[str, Any]:
    return {
        "id": record_id,
        "identifier": f"SKU-{record_id}",
        "description": "Widget",
        "price": price,
        "cost": cost,
        "category": {"id": category_id, "name": "Hardware"},
        "subcategory": {"id": 10},
        "manufacturer": {"id": 20},
        "type": {"id": 30, "name": "Non-Inventory"},
        "inactiveFlag": False,
    }


def make_opportunity(
    record_id: int = 1, *, status: str = "Open", company_id: int = 250
) -> dict[str, Any]:
    return {
        "id": record_id,
        "name": f"Deal {record_id}",
        "company": {"id": company_id},
        "status": {"id": 1, "name": status},
        "stage": {"id": 5, "name": "Quote"},
    }


@pytest.fixture(scope="module")
def contacts_gate(shipped_mapping: Mapping) -> QualityGate:
    return make_gate("contacts", shipped_mapping)


@pytest.fixture(scope="module")
def catalog_gate(shipped_mapping: Mapping) -> QualityGate:
    return make_gate("catalog_items", shipped_mapping)


@pytest.fixture(scope="module")
def opportunities_gate(shipped_mapping: Mapping) -> QualityGate:
    return make_gate("opportunities", shipped_mapping)


def reasons(rejections: list[Any]) -> dict[int, str]:
    return {rejection.record_id: rejection.reason for rejection in rejections}


# --- passing rows ----------------------------------------------------------------------------


def test_rows_that_pass_every_check_all_pass(
    contacts_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    rows = map_rows(
        "contacts",
        shipped_mapping,
        make_contact(1, email="ada@example.com"),
        make_contact(2, email="grace.hopper@navy.example.org"),
        make_contact(3, email=None),  # e-mail is checked only where present
    )

    passed, rejected = contacts_gate.split(rows)

    assert passed == rows
    assert rejected == []


def test_empty_chunk_passes_trivially(contacts_gate: QualityGate) -> None:
    assert contacts_gate.split([]) == ([], [])


def test_catalog_items_that_pass_all_pass(
    catalog_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    rows = map_rows(
        "catalog_items", shipped_mapping, make_catalog_item(1), make_catalog_item(2, price=0)
    )

    assert catalog_gate.split(rows) == (rows, [])


# --- single failures -------------------------------------------------------------------------


def test_bad_email_is_rejected_naming_column_and_value(
    contacts_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    rows = map_rows("contacts", shipped_mapping, make_contact(7, email="ada at example"))

    passed, [rejection] = contacts_gate.split(rows)

    assert passed == []
    assert rejection.record_id == 7
    assert rejection.check == "format"
    assert rejection.reason == (
        "email 'ada at example' is not a valid e-mail address: "
        "An email address must have an @-sign."
    )


# The addresses issue 17 found passing the old regex check; the validator's reason follows each.
BAD_EMAILS = {
    "@": "There must be something before the @-sign.",
    "a@": "There must be something after the @-sign.",
    "x@y": "The part after the @-sign is not valid. It should have a period.",
    "a b@c.com": "The email address contains invalid characters before the @-sign: SPACE.",
    "a@b@c.com": "The part after the @-sign contains invalid characters: '@'.",
    "not-an-email@@example": "The part after the @-sign contains invalid characters: '@'.",
}
GOOD_EMAILS = (
    "first.last+tag@sub.example.co.uk",
    "üser@exämple.de",
    "ADA@Example.COM",
    "o'brien@example.ie",
)


@pytest.mark.parametrize(("email", "why"), BAD_EMAILS.items())
def test_malformed_email_is_quarantined_with_the_validators_reason(
    contacts_gate: QualityGate, shipped_mapping: Mapping, email: str, why: str
) -> None:
    rows = map_rows("contacts", shipped_mapping, make_contact(9, email=email))

    passed, [rejection] = contacts_gate.split(rows)

    assert passed == []
    assert (rejection.record_id, rejection.check) == (9, "format")
    assert rejection.reason == f"email {email!r} is not a valid e-mail address: {why}"


def test_international_and_plus_addressed_emails_pass_as_given(
    contacts_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    records = [make_contact(i, email=email) for i, email in enumerate(GOOD_EMAILS, start=1)]
    rows = map_rows("contacts", shipped_mapping, *records)

    passed, rejected = contacts_gate.split(rows)

    assert rejected == []
    assert [row["email"] for row in passed] == list(GOOD_EMAILS)  # stored as given


def test_member_with_a_malformed_email_is_quarantined(shipped_mapping: Mapping) -> None:
    gate = make_gate("members", shipped_mapping)
    members = [
        {"id": 1, "identifier": "ada", "officeEmail": "ada@example.com"},
        {"id": 2, "identifier": "bob", "officeEmail": "bob@"},
        {"id": 3, "identifier": "cy", "officeEmail": None},
    ]

    passed, rejected = gate.split(map_rows("members", shipped_mapping, *members))

    assert [row["id"] for row in passed] == [1, 3]
    assert reasons(rejected) == {
        2: "email 'bob@' is not a valid e-mail address: There must be something after the @-sign."
    }


def test_rejection_carries_the_raw_record_as_payload(
    contacts_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    record = make_contact(7, email="nope")
    rows = map_rows("contacts", shipped_mapping, record)

    _, [rejection] = contacts_gate.split(rows)

    assert json.loads(rejection.payload) == record


def test_null_required_column_is_rejected(
    contacts_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    rows = map_rows("contacts", shipped_mapping, make_contact(8, first_name=None, email="a@b.co"))

    _, rejected = contacts_gate.split(rows)

    assert [(r.record_id, r.check, r.reason) for r in rejected] == [
        (8, "not_null", "first_name is missing")
    ]


def test_negative_price_is_rejected(catalog_gate: QualityGate, shipped_mapping: Mapping) -> None:
    rows = map_rows("catalog_items", shipped_mapping, make_catalog_item(3, price=-5.0))

    _, rejected = catalog_gate.split(rows)

    assert [(r.record_id, r.check, r.reason) for r in rejected] == [
        (3, "non_negative", "price -5.0000 is negative")
    ]


def test_duplicate_id_rejects_every_copy(
    contacts_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    rows = map_rows(
        "contacts",
        shipped_mapping,
        make_contact(4, email="a@example.com"),
        make_contact(4, email="b@example.com"),
        make_contact(5, email="c@example.com"),
    )

    passed, rejected = contacts_gate.split(rows)

    assert [row["id"] for row in passed] == [5]
    assert [(r.record_id, r.check, r.reason) for r in rejected] == [
        (4, "unique", "id 4 appears more than once in the same page"),
        (4, "unique", "id 4 appears more than once in the same page"),
    ]


def test_reference_to_an_unknown_id_is_rejected(
    catalog_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    rows = map_rows("catalog_items", shipped_mapping, make_catalog_item(6, category_id=99))

    _, rejected = catalog_gate.split(rows)

    assert [(r.record_id, r.check, r.reason) for r in rejected] == [
        (6, "reference", "category_id 99 does not match any staged categories record")
    ]


def test_missing_reference_is_not_a_reference_failure(
    catalog_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    record = make_catalog_item(6)
    record["manufacturer"] = None

    rows = map_rows("catalog_items", shipped_mapping, record)

    assert catalog_gate.split(rows) == (rows, [])


def test_reference_to_an_unknown_company_rejects_an_opportunity(
    opportunities_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    rows = map_rows("opportunities", shipped_mapping, make_opportunity(9, company_id=404))

    _, rejected = opportunities_gate.split(rows)

    assert reasons(rejected) == {9: "company_id 404 does not match any staged companies record"}


def test_opportunity_status_outside_open_won_lost_is_rejected(
    opportunities_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    [row] = map_rows("opportunities", shipped_mapping, make_opportunity(10))
    row["opportunity_status"] = "Pending"

    _, rejected = opportunities_gate.split([row])

    assert [(r.check, r.reason) for r in rejected] == [
        (
            "mapped_value",
            "status 'Open' maps to 'Pending', which opportunity_status does not allow "
            "(allowed: Open, Won, Lost): correct opportunity_status_map",
        )
    ]


def test_unmapped_opportunity_status_is_rejected_naming_the_connectwise_value(
    opportunities_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    rows = map_rows("opportunities", shipped_mapping, make_opportunity(11, status="Pending Review"))
    assert rows[0]["opportunity_status"] is None

    passed, [rejection] = opportunities_gate.split(rows)

    assert passed == []
    assert rejection.check == "mapped_value"
    assert rejection.reason == (
        "status 'Pending Review' is not mapped by opportunity_status_map: "
        "add it to the mapping file"
    )
    assert rejection.problem == "status 'Pending Review' is not mapped by opportunity_status_map"
    assert rejection.value == "Pending Review"


def test_opportunity_without_a_status_is_rejected_as_missing_not_unmapped(
    opportunities_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    record = make_opportunity(12)
    record["status"] = None

    _, [rejection] = opportunities_gate.split(map_rows("opportunities", shipped_mapping, record))

    assert rejection.reason == "status is missing, so opportunity_status has no value"
    assert (rejection.problem, rejection.value) == ("status is missing", None)


def test_unmapped_product_state_is_rejected_naming_the_state(
    mapping_document: dict[str, Any], write_mapping: Any
) -> None:
    mapping_document["product_status_map"] = {"Active": "Active"}
    mapping = load_mapping(write_mapping(mapping_document))
    item = make_catalog_item(13)
    item["inactiveFlag"] = True

    _, [rejection] = make_gate("catalog_items", mapping).split(
        map_rows("catalog_items", mapping, item)
    )

    assert rejection.reason == (
        "product state 'Inactive' is not mapped by product_status_map: add it to the mapping file"
    )
    assert rejection.value == "Inactive"


def test_product_status_outside_the_mapped_labels_is_rejected(
    catalog_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    [row] = map_rows("catalog_items", shipped_mapping, make_catalog_item(12))
    row["product_status"] = "Discontinued"

    _, rejected = catalog_gate.split([row])

    assert reasons(rejected) == {
        12: "product state 'Active' maps to 'Discontinued', which product_status does not "
        "allow (allowed: Active, Inactive): correct product_status_map"
    }


# --- several failures and mixed chunks -------------------------------------------------------


def test_row_failing_two_checks_gets_both_reasons(
    contacts_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    rows = map_rows("contacts", shipped_mapping, make_contact(13, first_name=None, email="bad"))

    _, [rejection] = contacts_gate.split(rows)

    assert rejection.check == "not_null,format"
    assert rejection.reason == (
        "first_name is missing; email 'bad' is not a valid e-mail address: "
        "An email address must have an @-sign."
    )


def test_row_failing_two_checks_of_the_same_kind_lists_the_check_once(
    catalog_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    rows = map_rows("catalog_items", shipped_mapping, make_catalog_item(14, price=-1.0, cost=-2.0))

    _, [rejection] = catalog_gate.split(rows)

    assert rejection.check == "non_negative"
    assert rejection.reason == "price -1.0000 is negative; cost -2.0000 is negative"


def mixed_catalog_rows(mapping: Mapping) -> list[Row]:
    """Items 1-5 (2 priced below zero, 4 in an unknown category), then item 3 again."""
    return map_rows(
        "catalog_items",
        mapping,
        make_catalog_item(1),
        make_catalog_item(2, price=-3.0),
        make_catalog_item(3),
        make_catalog_item(4, category_id=77),
        make_catalog_item(5),
        make_catalog_item(3),
    )


def test_good_rows_in_a_failing_chunk_still_pass(
    catalog_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    rows = mixed_catalog_rows(shipped_mapping)[:5]

    passed, rejected = catalog_gate.split(rows)

    assert [row["id"] for row in passed] == [1, 3, 5]
    assert passed == [rows[0], rows[2], rows[4]]  # rows pass unchanged
    assert [rejection.record_id for rejection in rejected] == [2, 4]


def test_a_chunk_gathered_part_by_part_is_judged_as_one(
    catalog_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    # The sync hands the gate a chunk's rows a part at a time and keeps only what the checks
    # need; positions run across the parts, and a duplicate id in two parts is still caught.
    rows = mixed_catalog_rows(shipped_mapping)
    checks = catalog_gate.chunk_checks()
    for start in (0, 2, 4):
        checks.add(rows[start : start + 2])

    failures = checks.failures()

    assert {position: [check.name for check in found] for position, found in failures.items()} == {
        1: ["non_negative"],
        2: ["unique"],
        3: ["reference"],
        5: ["unique"],
    }
    _passed, rejected = catalog_gate.split(rows)
    assert [rejection.record_id for rejection in rejected] == [2, 3, 4, 3]


def test_gate_keeps_no_state_between_chunks(
    contacts_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    contacts_gate.split(map_rows("contacts", shipped_mapping, make_contact(20, email="bad")))

    rows = map_rows("contacts", shipped_mapping, make_contact(20, email="good@example.com"))

    assert contacts_gate.split(rows) == (rows, [])


# --- problems: the reason without the record's own value ------------------------------------


def test_records_with_the_same_problem_share_it_whatever_their_values(
    contacts_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    rows = map_rows(
        "contacts",
        shipped_mapping,
        make_contact(1, email="ada at example"),
        make_contact(2, email="bob@"),
    )

    _, rejected = contacts_gate.split(rows)

    assert {rejection.problem for rejection in rejected} == {"email is not a valid e-mail address"}
    assert [rejection.value for rejection in rejected] == ["ada at example", "bob@"]


def test_a_reference_problem_leaves_the_id_out_and_shows_it_as_the_value(
    opportunities_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    rows = map_rows("opportunities", shipped_mapping, make_opportunity(9, company_id=404))

    _, [rejection] = opportunities_gate.split(rows)

    assert rejection.problem == "company_id does not match any staged companies record"
    assert rejection.value == "404"


def test_a_row_failing_two_checks_has_both_problems_and_the_first_present_value(
    contacts_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    rows = map_rows("contacts", shipped_mapping, make_contact(13, first_name=None, email="bad"))

    _, [rejection] = contacts_gate.split(rows)

    assert rejection.problem == "first_name is missing; email is not a valid e-mail address"
    assert rejection.value == "bad"


def test_a_value_that_does_not_fit_its_column_is_a_mapping_problem(
    shipped_mapping: Mapping,
) -> None:
    record = make_catalog_item(15)
    record["price"] = "ten"

    _, [rejection] = RecordMapper(REGISTRY["catalog_items"], shipped_mapping).map_records([record])

    assert rejection.check == "mapping"
    assert rejection.reason == "column 'price': 'ten' is not a valid amount (money)"
    assert rejection.problem == "column 'price': the value is not a valid amount (money)"
    assert rejection.value == "ten"


def test_chunks_checked_at_once_are_each_checked_against_their_own_rows(
    catalog_gate: QualityGate, shipped_mapping: Mapping, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL loads two chunks of an entity at once; GX stores both under one batch id.

    The first chunk's validation is held right after GX stored its rows until the second chunk
    has been checked (or 2 s passed): checked against the second chunk's rows, the first
    chunk's bad row would pass and load.
    """
    from great_expectations.execution_engine import PandasExecutionEngine

    bad = map_rows("catalog_items", shipped_mapping, make_catalog_item(1, price=-5))
    good = map_rows("catalog_items", shipped_mapping, make_catalog_item(2))
    first_validating, second_checked = threading.Event(), threading.Event()
    resolve = PandasExecutionEngine.resolve_metrics
    first_thread: list[int] = []

    def held_resolve(engine: Any, *args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() in first_thread and not first_validating.is_set():
            first_validating.set()
            second_checked.wait(timeout=2)
        return resolve(engine, *args, **kwargs)

    monkeypatch.setattr(PandasExecutionEngine, "resolve_metrics", held_resolve)
    outcomes: dict[str, tuple[list[Row], list[Any]]] = {}

    def check_first() -> None:
        first_thread.append(threading.get_ident())
        outcomes["bad"] = catalog_gate.split(bad)

    def check_second() -> None:
        first_validating.wait(timeout=5)
        outcomes["good"] = catalog_gate.split(good)
        second_checked.set()

    threads = [threading.Thread(target=check_first), threading.Thread(target=check_second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert first_validating.is_set()
    passed, rejected = outcomes["bad"]
    assert passed == [] and [item.record_id for item in rejected] == [1]
    assert outcomes["good"] == (good, [])


def test_a_checked_chunk_is_not_kept_by_great_expectations(
    catalog_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    from connectwise.quality.gate import data_source

    catalog_gate.split(map_rows("catalog_items", shipped_mapping, make_catalog_item(3)))
    catalog_gate.split(map_rows("catalog_items", shipped_mapping, make_catalog_item(4, price=-1)))
    engine = data_source().get_execution_engine()
    kept = engine.batch_manager
    assert kept.batch_data_cache == {} and kept.batch_cache == {}
    assert not engine._metric_cache  # nor the per-row series it computed for the checks


def test_a_chunks_references_are_looked_up_once_for_all_its_parts(
    shipped_mapping: Mapping,
) -> None:
    asked: list[tuple[str, set[int]]] = []

    def staged_among(entity: str, ids: set[int]) -> set[int]:
        asked.append((entity, set(ids)))
        return ids - {251}  # company 251 is not staged

    gate = QualityGate(
        REGISTRY["opportunities"],
        CheckContext(
            shipped_mapping.config,
            {name: ids for name, ids in KNOWN_IDS.items() if name != "companies"},
            lookup=staged_among,
        ),
    )
    records = [make_opportunity(n, company_id=250 + n % 2) for n in range(1, 7)]
    checks = gate.chunk_checks()
    for start in (0, 2, 4):
        checks.add(map_rows("opportunities", shipped_mapping, *records[start : start + 2]))

    failures = checks.failures()

    assert asked == [("companies", {250, 251})]
    assert sorted(failures) == [0, 2, 4]  # opportunities 1, 3, 5 point at company 251
    assert {check.name for found in failures.values() for check in found} == {"reference"}


def test_numbers_judged_the_same_whether_kept_typed_or_not(
    catalog_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    # The gate keeps a chunk's numbers in typed arrays while they fit: a missing price in a
    # later part, or a negative one, is judged as in one list of the chunk's values.
    parts = [
        [make_catalog_item(1), make_catalog_item(2, price=3.5)],
        [make_catalog_item(3, price=None), make_catalog_item(4, price=-1.0)],
        [make_catalog_item(5, cost=None), make_catalog_item(6)],
    ]
    checks = catalog_gate.chunk_checks()
    for records in parts:
        checks.add(map_rows("catalog_items", shipped_mapping, *records))

    failures = checks.failures()

    assert {position: [check.name for check in found] for position, found in failures.items()} == {
        3: ["non_negative"]
    }
    rows = map_rows("catalog_items", shipped_mapping, *(r for part in parts for r in part))
    assert [rejection.record_id for rejection in catalog_gate.split(rows)[1]] == [4]


def test_a_missing_required_value_in_a_later_part_is_found_by_its_position(
    opportunities_gate: QualityGate, shipped_mapping: Mapping
) -> None:
    # A column only checked for having a value keeps no values, just where they are missing.
    parts = [
        [make_opportunity(1), make_opportunity(2)],
        [{**make_opportunity(3), "name": None}, make_opportunity(4)],
        [make_opportunity(5), {**make_opportunity(6), "name": None}],
    ]
    checks = opportunities_gate.chunk_checks()
    for records in parts:
        checks.add(map_rows("opportunities", shipped_mapping, *records))

    failures = checks.failures()

    assert {position: [check.name for check in found] for position, found in failures.items()} == {
        2: ["not_null"],
        5: ["not_null"],
    }
