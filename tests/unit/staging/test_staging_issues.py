"""Open quarantine read for the Issues page and for re-mapping (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from connectwise.entities import REGISTRY
from connectwise.mapping.apply import RecordMapper, canonical_json
from connectwise.mapping.load import Mapping
from connectwise.staging.database import is_postgres
from connectwise.staging.issues import held_payloads, held_records, open_quarantine_groups
from connectwise.staging.quarantine import quarantine, resolve_quarantine
from connectwise.staging.records import Rejection
from connectwise.staging.writer import StagingWriter, sql_value
from sqlalchemy.engine import Engine

EMAIL = "email is not a valid e-mail address"
MANUFACTURERS = REGISTRY["manufacturers"]


def hold(engine: Engine, entity: str, *rejections: Rejection, run_id: str = "r1") -> None:
    with engine.begin() as connection:
        quarantine(connection, entity, list(rejections), run_id)


def bad_email(record_id: int, address: str) -> Rejection:
    record = {"id": record_id, "firstName": f"P{record_id}"}
    reason = f"email {address!r} is not a valid e-mail address: no @-sign"
    return Rejection(record_id, "format", reason, canonical_json(record), EMAIL, address)


def unmapped(record_id: int, status: str) -> Rejection:
    problem = f"status {status!r} is not mapped by opportunity_status_map"
    record = {"id": record_id, "status": {"name": status}}
    return Rejection(
        record_id, "mapped_value", f"{problem}: add it", canonical_json(record), problem, status
    )


def summary(engine: Engine, examples: int = 3) -> list[tuple[str, str, str, int]]:
    return [
        (group.entity, group.check_name, group.problem, group.count)
        for group in open_quarantine_groups(engine, examples)
    ]


def test_rows_with_one_problem_form_one_group_whatever_their_own_values(engine: Engine) -> None:
    hold(engine, "contacts", bad_email(1, "a@"), bad_email(2, "b at c"), bad_email(3, "@x"))

    assert summary(engine) == [("contacts", "format", EMAIL, 3)]


def test_each_unmapped_value_is_a_group_of_its_own_largest_first(engine: Engine) -> None:
    hold(
        engine,
        "opportunities",
        unmapped(1, "On Hold"),
        unmapped(2, "Pending Review"),
        unmapped(3, "Pending Review"),
    )

    assert [(problem, count) for _, _, problem, count in summary(engine)] == [
        ("status 'Pending Review' is not mapped by opportunity_status_map", 2),
        ("status 'On Hold' is not mapped by opportunity_status_map", 1),
    ]


def test_groups_are_per_entity_and_check(engine: Engine) -> None:
    hold(engine, "contacts", bad_email(1, "a@"))
    hold(engine, "members", bad_email(1, "a@"))
    missing = Rejection(2, "not_null", "first_name is missing", "{}", "first_name is missing")
    hold(engine, "contacts", missing)

    assert summary(engine) == [
        ("contacts", "format", EMAIL, 1),
        ("contacts", "not_null", "first_name is missing", 1),
        ("members", "format", EMAIL, 1),
    ]


def test_rows_without_a_problem_are_grouped_by_their_reason(engine: Engine) -> None:
    given_up = Rejection(5, "callback_delivery", "gave up after 5 attempts: 503", "{}")
    hold(engine, "contacts", given_up, Rejection(6, "callback_delivery", given_up.reason, "{}"))

    assert summary(engine) == [("contacts", "callback_delivery", given_up.reason, 2)]


def test_resolved_rows_are_not_issues(engine: Engine) -> None:
    hold(engine, "contacts", bad_email(1, "a@"), bad_email(2, "b@"))
    with engine.begin() as connection:
        resolve_quarantine(connection, "contacts", [1])

    assert summary(engine) == [("contacts", "format", EMAIL, 1)]


def test_a_group_carries_its_newest_examples_with_values_and_payloads(engine: Engine) -> None:
    hold(engine, "contacts", bad_email(1, "a@"), bad_email(2, "b@"), bad_email(3, "c@"))
    later = sql_value(datetime(2030, 1, 1, tzinfo=UTC), postgres=is_postgres(engine))
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE meta_quarantine SET quarantined_at = :later WHERE record_id = 3"),
            {"later": later},
        )

    [group] = open_quarantine_groups(engine, examples=2)

    assert [example.record_id for example in group.examples] == [3, 1]  # then by key
    newest = group.examples[0]
    assert (newest.record_key, newest.value, newest.payload) == (
        "3",
        "c@",
        {"firstName": "P3", "id": 3},
    )
    assert newest.reason == "email 'c@' is not a valid e-mail address: no @-sign"
    assert group.last_quarantined_at == datetime(2030, 1, 1, tzinfo=UTC)
    assert group.first_quarantined_at is not None
    assert group.first_quarantined_at < group.last_quarantined_at


def test_no_examples_when_none_are_asked_for(engine: Engine) -> None:
    hold(engine, "contacts", bad_email(1, "a@"))

    assert open_quarantine_groups(engine, examples=0)[0].examples == ()
    with pytest.raises(ValueError, match="examples must be 0 or more"):
        open_quarantine_groups(engine, examples=-1)


def stage(engine: Engine, mapping: Mapping, *records: dict[str, Any]) -> None:
    mapper = RecordMapper(MANUFACTURERS, mapping)
    writer = StagingWriter(engine, MANUFACTURERS.staging_table, mapper.columns)
    rows, _ = mapper.map_records(records)
    with engine.begin() as connection:
        writer.load(connection, rows, "r0")


def manufacturer(record_id: int, last_updated: str) -> dict[str, Any]:
    return {"id": record_id, "name": "M", "_info": {"lastUpdated": last_updated}}


def test_held_records_say_what_each_payload_is_and_what_staging_holds(
    engine: Engine, shipped_mapping: Mapping
) -> None:
    stage(engine, shipped_mapping, *(manufacturer(i, "2024-05-01T00:00:00Z") for i in (1, 2)))
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE stg_manufacturers SET deleted_at = loaded_at WHERE id = 2")
        )
    held = [
        Rejection(1, "not_null", "x", canonical_json(manufacturer(1, "2024-06-01T00:00:00Z"))),
        Rejection(2, "not_null", "x", canonical_json(manufacturer(2, "2024-04-01T00:00:00Z"))),
        Rejection(3, "not_null", "x", canonical_json({"id": "3", "name": "string id"})),
        Rejection(4, "callback_delivery", "x", json.dumps({"record_id": 4})),
        Rejection(5, "not_null", "x", canonical_json({"id": 6})),  # another record's id
        Rejection(7, "not_null", "x", json.dumps([7])),
        Rejection(None, "mapping", "no id", canonical_json({"name": "no id"})),
    ]
    hold(engine, "manufacturers", *held)

    found = {
        item.record_key: item
        for item in held_records(engine, MANUFACTURERS.name, MANUFACTURERS.staging_table)
    }

    assert {key for key, item in found.items() if item.is_record} == {"1", "2", "3"}
    first, second = found["1"], found["2"]
    assert first.is_staged and first.staged_deleted_at is None
    assert first.last_updated is not None and first.staged_last_updated is not None
    assert first.last_updated > first.staged_last_updated
    assert second.is_staged and second.staged_deleted_at is not None
    assert not found["3"].is_staged and found["3"].last_updated is None
    assert found["4"].record_id == 4 and not found["4"].is_record


def test_held_payloads_are_read_for_the_keys_asked_for(engine: Engine) -> None:
    hold(
        engine,
        "manufacturers",
        *(Rejection(i, "not_null", "x", canonical_json({"id": i})) for i in range(1, 6)),
    )

    pages = list(held_payloads(engine, "manufacturers", {"2", "4"}))

    assert pages == [[{"id": 2}, {"id": 4}]]
    assert list(held_payloads(engine, "manufacturers", set())) == []
