"""Cross-table orphans and the per-entity summary, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from connectwise.entities import REGISTRY
from connectwise.mapping.apply import RecordMapper, canonical_json
from connectwise.mapping.load import Mapping
from connectwise.staging.quarantine import quarantine
from connectwise.staging.records import Rejection
from connectwise.staging.reports import Orphans, entity_summary, find_orphans, format_summary
from connectwise.staging.writer import StagingWriter
from sqlalchemy.engine import Engine

DELETED_AT = "2024-01-01T00:00:00Z"


@pytest.fixture
def stage(engine: Engine, shipped_mapping: Mapping):
    """Load records of an entity through the real mapper and writer: ``stage(name, *records)``."""

    def load(entity_name: str, *records: dict[str, Any]) -> None:
        mapper = RecordMapper(REGISTRY[entity_name], shipped_mapping)
        rows, rejections = mapper.map_records(records)
        assert rejections == []
        writer = StagingWriter(engine, REGISTRY[entity_name].staging_table, mapper.columns)
        with engine.begin() as connection:
            writer.load(connection, rows, "run-1")

    return load


def soft_delete(engine: Engine, table: str, record_id: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.text(f"UPDATE {table} SET deleted_at = :at WHERE id = :id"),
            {"at": DELETED_AT, "id": record_id},
        )


def make_contact(record_id: int, company_id: int | None) -> dict[str, Any]:
    company = {"id": company_id} if company_id is not None else None
    return {"id": record_id, "firstName": "Ada", "company": company}


def make_company(record_id: int) -> dict[str, Any]:
    return {"id": record_id, "identifier": f"C{record_id}", "name": f"Company {record_id}"}


def orphans_of(engine: Engine, entity: str, column: str) -> Orphans:
    [found] = [o for o in find_orphans(engine) if (o.entity, o.column) == (entity, column)]
    return found


# --- find_orphans ----------------------------------------------------------------------------


def test_find_orphans_finds_a_contact_whose_company_is_not_staged(engine: Engine, stage) -> None:
    stage("companies", make_company(250))
    stage("contacts", make_contact(1, 250), make_contact(2, 404), make_contact(3, 405))

    assert orphans_of(engine, "contacts", "company_id") == Orphans(
        "contacts", "company_id", "companies", 2, [2, 3]
    )


def test_find_orphans_ignores_a_contact_without_company(engine: Engine, stage) -> None:
    stage("contacts", make_contact(1, None))

    assert orphans_of(engine, "contacts", "company_id").count == 0


def test_find_orphans_treats_a_soft_deleted_company_as_missing(engine: Engine, stage) -> None:
    stage("companies", make_company(250))
    stage("contacts", make_contact(1, 250))
    soft_delete(engine, "stg_companies", 250)

    assert orphans_of(engine, "contacts", "company_id").sample_ids == [1]


def test_find_orphans_ignores_soft_deleted_rows_that_point_nowhere(engine: Engine, stage) -> None:
    stage("contacts", make_contact(1, 404))
    soft_delete(engine, "stg_contacts", 1)

    assert orphans_of(engine, "contacts", "company_id").count == 0


def test_find_orphans_reports_every_reference_and_link(engine: Engine) -> None:
    checked = {(o.entity, o.column) for o in find_orphans(engine)}
    declared = {
        (entity.name, reference.column)
        for entity in REGISTRY
        for reference in (*entity.references, *entity.links)
    }
    assert checked == declared


def test_find_orphans_samples_at_most_ten_ids(engine: Engine, stage) -> None:
    stage("contacts", *(make_contact(record_id, 404) for record_id in range(1, 16)))

    found = orphans_of(engine, "contacts", "company_id")

    assert found.count == 15
    assert found.sample_ids == list(range(1, 11))


# --- entity_summary --------------------------------------------------------------------------


def test_entity_summary_counts_rows_soft_deleted_and_quarantined(engine: Engine, stage) -> None:
    stage("contacts", make_contact(1, 250), make_contact(2, 250), make_contact(3, 250))
    soft_delete(engine, "stg_contacts", 3)
    rejections = [
        Rejection(record_id, "format", "bad", canonical_json({"id": record_id}))
        for record_id in (7, 8)
    ]
    with engine.begin() as connection:
        quarantine(connection, "contacts", rejections, "run-1")

    [contacts] = [item for item in entity_summary(engine) if item["entity"] == "contacts"]

    assert contacts == {
        "entity": "contacts",
        "table": "stg_contacts",
        "rows": 2,
        "soft_deleted": 1,
        "quarantined": 2,
    }


def test_entity_summary_leaves_out_resolved_quarantine_rows(engine: Engine) -> None:
    from connectwise.staging.quarantine import resolve_quarantine

    with engine.begin() as connection:
        quarantine(connection, "contacts", [Rejection(7, "format", "bad", "{}")], "run-1")
        resolve_quarantine(connection, "contacts", [7])

    [contacts] = [item for item in entity_summary(engine) if item["entity"] == "contacts"]
    assert contacts["quarantined"] == 0


def test_entity_summary_lists_every_entity_in_dependency_order(engine: Engine) -> None:
    summary = entity_summary(engine)

    assert [item["entity"] for item in summary] == REGISTRY.names()
    assert all(item["rows"] == 0 for item in summary)


def test_format_summary_totals_the_rows(engine: Engine, stage) -> None:
    stage("contacts", make_contact(1, 250), make_contact(2, 250))
    stage("companies", make_company(250))

    text = format_summary(entity_summary(engine))

    assert text.splitlines()[-1].split() == ["total", "3"]
