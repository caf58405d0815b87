"""Applying a mapping: one typed row per record, or a rejection with its reason."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import yaml
from connectwise.entities import REGISTRY
from connectwise.mapping.apply import (
    CoercionError,
    RecordMapper,
    canonical_json,
    coerce,
    custom_field_value,
)
from connectwise.mapping.load import Mapping, load_mapping
from connectwise.staging.records import record_hash

# Extra columns on the companies section, one per column type and origin.
EXTRA_COMPANY_FIELDS = {
    "founded": {"source": "founded", "type": "timestamp"},
    "revenue": {"custom_field": "Annual Revenue", "type": "number"},
    "region_code": {"custom_field": 12},
    "is_key_account": {"custom_field": "Key Account", "type": "boolean"},
    "site_id": {"source": "site/id", "type": "integer"},
    "site_name": "site/name",
    "tags": {"source": "tags", "type": "json"},
}


@pytest.fixture(scope="module")
def test_mapping(
    tmp_path_factory: pytest.TempPathFactory, shipped_document: dict[str, Any]
) -> Mapping:
    document = copy.deepcopy(shipped_document)
    document["entities"]["companies"]["fields"].update(EXTRA_COMPANY_FIELDS)
    path = tmp_path_factory.mktemp("mapping") / "mapping.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return load_mapping(path)


@pytest.fixture(scope="module")
def companies(test_mapping: Mapping) -> RecordMapper:
    return RecordMapper(REGISTRY["companies"], test_mapping)


def make_company(**fields: Any) -> dict[str, Any]:
    """A ConnectWise company record; ``fields`` override or add keys."""
    record: dict[str, Any] = {
        "id": 250,
        "identifier": "Acme",
        "name": "Acme Inc.",
        "status": {"id": 1, "name": "Active"},
        "types": [{"id": 1, "name": "Customer"}],
        "numberOfEmployees": 42,
        "deletedFlag": False,
        "site": {"id": 7, "name": "Main"},
        "customFields": [
            {"id": 11, "caption": "Annual Revenue", "type": "Number", "value": 1250000.5},
            {"id": 12, "caption": "Region", "type": "Text", "value": "EMEA"},
            {"id": 13, "caption": "Key Account", "type": "Checkbox", "value": True},
        ],
        "_info": {"lastUpdated": "2024-05-06T07:08:09Z"},
    }
    record.update(fields)
    return record


def map_one(mapper: RecordMapper, record: dict[str, Any]) -> dict[str, Any]:
    rows, rejections = mapper.map_records([record])
    assert rejections == [], rejections
    return rows[0]


# --- typed columns ---------------------------------------------------------------------------


def test_mapped_row_has_typed_columns(companies: RecordMapper) -> None:
    row = map_one(companies, make_company(founded="1999-12-31T00:00:00Z", tags=["a", "b"]))

    assert row["identifier"] == "Acme"
    assert row["employees"] == 42
    assert row["is_deleted"] is False
    assert row["founded"] == datetime(1999, 12, 31, tzinfo=UTC)
    assert row["tags"] == '["a","b"]'
    assert row["status_id"] == 1


def test_mapped_row_reads_nested_paths(companies: RecordMapper) -> None:
    row = map_one(companies, make_company())
    assert (row["site_id"], row["site_name"], row["status"]) == (7, "Main", "Active")


def test_missing_paths_map_to_none(companies: RecordMapper) -> None:
    row = map_one(companies, {"id": 3})
    mapped = {column: row[column] for column in companies.columns}
    assert all(value is None for value in mapped.values()), mapped


def test_path_through_a_non_object_maps_to_none(companies: RecordMapper) -> None:
    assert map_one(companies, make_company(site="Main"))["site_id"] is None


def test_custom_field_is_found_by_caption_case_insensitively(companies: RecordMapper) -> None:
    record = make_company(customFields=[{"id": 99, "caption": "ANNUAL revenue", "value": "10.5"}])
    assert map_one(companies, record)["revenue"] == 10.5


def test_custom_field_is_found_by_id(companies: RecordMapper) -> None:
    assert map_one(companies, make_company())["region_code"] == "EMEA"


def test_custom_field_boolean_is_typed(companies: RecordMapper) -> None:
    assert map_one(companies, make_company())["is_key_account"] is True


def test_absent_custom_field_maps_to_none(companies: RecordMapper) -> None:
    assert map_one(companies, make_company(customFields=None))["revenue"] is None


def test_custom_field_by_id_does_not_match_a_caption_that_looks_like_it() -> None:
    record = {"customFields": [{"id": 5, "caption": "12", "value": "wrong"}]}
    assert custom_field_value(record, 12) is None


def test_text_column_strips_nul_characters(companies: RecordMapper) -> None:
    assert map_one(companies, make_company(name="Ac\x00me\x00"))["name"] == "Acme"


def test_raw_json_strips_nul_characters(companies: RecordMapper) -> None:
    row = map_one(companies, make_company(name="Ac\x00me"))
    assert json.loads(row["raw"])["name"] == "Acme"


# --- coerce ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "column_type", "expected"),
    [
        (42, "text", "42"),
        ({"b": 1, "a": [1]}, "text", '{"a":[1],"b":1}'),
        ("42", "integer", 42),
        (42.0, "integer", 42),
        ("-7", "integer", -7),
        ("1.5", "number", 1.5),
        (3, "number", 3.0),
        (12.3456, "money", Decimal("12.3456")),  # from the float's text, not its binary value
        ("19.99", "money", Decimal("19.9900")),
        (0.00005, "money", Decimal("0.0001")),  # four places, half away from zero
        (-0.00005, "money", Decimal("-0.0001")),
        (7, "money", Decimal("7.0000")),
        ("yes", "boolean", True),
        ("0", "boolean", False),
        (1, "boolean", True),
        (False, "boolean", False),
        ("2024-01-02", "timestamp", datetime(2024, 1, 2, tzinfo=UTC)),
        ("2024-01-02T05:04:05+02:00", "timestamp", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ({"z": None, "a": "é"}, "json", '{"a":"é","z":null}'),
        (None, "integer", None),
        (None, "json", None),
    ],
)
def test_coerce_converts_json_values_to_the_column_type(
    value: Any, column_type: Any, expected: Any
) -> None:
    assert coerce(value, column_type) == expected
    if column_type == "money":
        assert str(coerce(value, column_type)) == str(expected)  # exactly four places


@pytest.mark.parametrize(
    ("value", "column_type"),
    [
        ("abc", "integer"),
        (1.5, "integer"),
        (True, "integer"),
        (2**70, "integer"),
        ("abc", "number"),
        (True, "number"),
        ("abc", "money"),
        (True, "money"),
        (float("nan"), "money"),
        (float("inf"), "money"),
        (1e14, "money"),  # NUMERIC(18,4) holds 14 digits before the point
        ("maybe", "boolean"),
        ("not a date", "timestamp"),
        (12345, "timestamp"),
    ],
)
def test_coerce_refuses_a_value_that_does_not_fit(value: Any, column_type: Any) -> None:
    expected = "amount \\(money\\)" if column_type == "money" else column_type
    with pytest.raises(CoercionError, match=f"is not a valid {expected}"):
        coerce(value, column_type)


def test_coerce_refuses_a_fractional_string_for_an_integer_column() -> None:
    with pytest.raises(CoercionError):
        coerce("1.5", "integer")


def test_coerce_shortens_a_long_value_in_its_message() -> None:
    with pytest.raises(CoercionError) as caught:
        coerce("x" * 500, "integer")
    assert len(str(caught.value)) < 100


# --- rejections ------------------------------------------------------------------------------


def test_value_that_does_not_fit_rejects_the_record_naming_the_column(
    companies: RecordMapper,
) -> None:
    record = make_company(numberOfEmployees="abc")

    rows, rejections = companies.map_records([record])

    assert rows == []
    [rejection] = rejections
    assert rejection.record_id == 250
    assert rejection.check == "mapping"
    assert rejection.reason == "column 'employees': 'abc' is not a valid integer"
    assert json.loads(rejection.payload) == record


def test_rejected_record_does_not_stop_the_rest_of_the_chunk(companies: RecordMapper) -> None:
    rows, rejections = companies.map_records(
        [make_company(id=1), make_company(id=2, numberOfEmployees="many"), make_company(id=3)]
    )
    assert [row["id"] for row in rows] == [1, 3]
    assert [rejection.record_id for rejection in rejections] == [2]


@pytest.mark.parametrize("record_id", [None, "abc", True])
def test_record_without_a_usable_id_is_rejected(companies: RecordMapper, record_id: Any) -> None:
    rows, rejections = companies.map_records([make_company(id=record_id)])

    assert rows == []
    assert [(r.record_id, r.reason) for r in rejections] == [(None, "record has no usable 'id'")]


def test_record_without_id_key_is_rejected(companies: RecordMapper) -> None:
    record = make_company()
    del record["id"]
    _, rejections = companies.map_records([record])
    assert rejections[0].reason == "record has no usable 'id'"


def test_numeric_string_id_is_read_as_an_integer(companies: RecordMapper) -> None:
    assert map_one(companies, make_company(id="250"))["id"] == 250


@pytest.mark.parametrize("last_updated", ["yesterday", 1714979289])
def test_malformed_last_updated_rejects_the_record_instead_of_raising(
    companies: RecordMapper, last_updated: Any
) -> None:
    record = make_company(_info={"lastUpdated": last_updated})

    rows, rejections = companies.map_records([record, make_company(id=251)])

    assert [row["id"] for row in rows] == [251]
    assert [rejection.record_id for rejection in rejections] == [250]


# --- bookkeeping columns ---------------------------------------------------------------------


def test_row_carries_last_updated_from_info(companies: RecordMapper) -> None:
    assert map_one(companies, make_company())["last_updated"] == datetime(
        2024, 5, 6, 7, 8, 9, tzinfo=UTC
    )


def test_row_is_stamped_with_the_mapping_version(
    companies: RecordMapper, test_mapping: Mapping
) -> None:
    assert map_one(companies, make_company())["mapping_version"] == test_mapping.version


def test_raw_json_is_canonical_whatever_the_key_order(companies: RecordMapper) -> None:
    record = make_company()
    reordered = dict(reversed(list(record.items())))

    first, second = map_one(companies, record), map_one(companies, reordered)

    assert first["raw"] == second["raw"]
    assert first["record_hash"] == second["record_hash"]


def test_record_hash_changes_when_the_record_changes(companies: RecordMapper) -> None:
    before = map_one(companies, make_company())
    after = map_one(companies, make_company(name="Acme Holdings"))
    assert before["record_hash"] != after["record_hash"]


def test_record_hash_is_the_hash_of_the_raw_json(companies: RecordMapper) -> None:
    row = map_one(companies, make_company())
    assert row["record_hash"] == record_hash(row["raw"])


def test_raw_json_round_trips_the_record(companies: RecordMapper) -> None:
    record = make_company(name='Quote " and \\ backslash', notes="línea\nnueva")
    assert json.loads(map_one(companies, record)["raw"]) == record


def test_canonical_json_keeps_a_literal_backslash_u0000_text() -> None:
    record = {"path": "C:\\u0000dir"}  # backslash, then the letters u0000 - not a NUL
    assert json.loads(canonical_json(record)) == record


def test_mapper_columns_list_the_mapped_columns_with_types(companies: RecordMapper) -> None:
    assert companies.columns["employees"] == "integer"
    assert companies.columns["site_name"] == "text"
    assert "id" not in companies.columns


def test_mapper_for_the_shipped_mapping_maps_a_contact(shipped_mapping: Mapping) -> None:
    contacts = RecordMapper(REGISTRY["contacts"], shipped_mapping)
    record = {
        "id": 5,
        "firstName": "Ada",
        "company": {"id": 250, "identifier": "Acme"},
        "communicationItems": [
            {"communicationType": "Email", "value": "ada@example.com", "defaultFlag": True}
        ],
        "inactiveFlag": False,
    }

    row = map_one(contacts, record)

    assert (row["first_name"], row["company_id"], row["email"], row["is_inactive"]) == (
        "Ada",
        250,
        "ada@example.com",
        False,
    )
