"""A chunk checked and loaded in one transaction: one COPY when nothing is staged, parts else."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from connectwise.checked_load import ChunkResult, check_and_load
from connectwise.entities import REGISTRY
from connectwise.mapping.apply import RecordMapper
from connectwise.mapping.load import Mapping
from connectwise.quality.checks import CheckContext
from connectwise.quality.gate import QualityGate
from connectwise.spilled_chunk import SpilledChunk
from connectwise.staging.quarantine import quarantine
from connectwise.staging.records import Rejection
from connectwise.staging.writer import LoadCounts, StagingWriter
from sqlalchemy.engine import Engine

from tests.unit.staging.test_staging_writer import make_contact

CONTACTS = REGISTRY["contacts"]
KNOWN_IDS = {"companies": {250}}


@pytest.fixture
def mapper(shipped_mapping: Mapping) -> RecordMapper:
    return RecordMapper(CONTACTS, shipped_mapping)


@pytest.fixture
def gate(shipped_mapping: Mapping) -> QualityGate:
    return QualityGate(CONTACTS, CheckContext(shipped_mapping.config, KNOWN_IDS))


@pytest.fixture
def writer(engine: Engine, mapper: RecordMapper) -> StagingWriter:
    return StagingWriter(engine, CONTACTS.staging_table, mapper.columns)


def chunk_of(mapper: RecordMapper, *parts: list[dict[str, Any]]) -> SpilledChunk:
    """A chunk with one part per list of records, mapped as the sync maps them."""
    chunk = SpilledChunk()
    for records in parts:
        chunk.add(*mapper.map_records(records))
    return chunk


def load(engine: Engine, gate: QualityGate, writer: StagingWriter, chunk: SpilledChunk):
    try:
        return check_and_load(engine, gate, writer, chunk, "run-1")
    finally:
        chunk.close()


def staged_names(engine: Engine) -> dict[int, str]:
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT id, first_name FROM stg_contacts"))
        return {row[0]: row[1] for row in rows}


def open_quarantine(engine: Engine) -> dict[int | None, str]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT record_id, check_name FROM meta_quarantine "
                "WHERE entity = 'contacts' AND resolved_at IS NULL"
            )
        )
        return {row[0]: row[1] for row in rows}


def contacts(first: int, last: int, **fields: Any) -> list[dict[str, Any]]:
    return [make_contact(number, **fields) for number in range(first, last + 1)]


def test_a_new_chunk_loads_what_passes_and_quarantines_both_kinds_of_rejection(
    engine: Engine, gate: QualityGate, writer: StagingWriter, mapper: RecordMapper
) -> None:
    bad_email = make_contact(5)
    bad_email["communicationItems"][0]["value"] = "not-an-email"
    unmappable = make_contact(6, _info={"lastUpdated": "not a time"})
    chunk = chunk_of(mapper, contacts(1, 4), [bad_email, unmappable], contacts(7, 9))

    result = load(engine, gate, writer, chunk)

    assert result == ChunkResult(LoadCounts(inserted=7), quarantined=2)
    assert sorted(staged_names(engine)) == [1, 2, 3, 4, 7, 8, 9]
    held = open_quarantine(engine)
    assert set(held) == {5, 6}
    assert held[6] == "mapping"


def test_a_chunk_with_staged_records_loads_part_by_part_and_counts_each(
    engine: Engine, gate: QualityGate, writer: StagingWriter, mapper: RecordMapper
) -> None:
    load(engine, gate, writer, chunk_of(mapper, contacts(1, 3)))
    changed = contacts(2, 3, firstName="Changed", _info={"lastUpdated": "2025-01-01T00:00:00Z"})
    chunk = chunk_of(mapper, contacts(1, 1), changed, contacts(4, 5))

    result = load(engine, gate, writer, chunk)

    assert result.counts == LoadCounts(inserted=2, updated=2, unchanged=1)
    assert staged_names(engine) == {
        1: "First1",
        2: "Changed",
        3: "Changed",
        4: "First4",
        5: "First5",
    }


def test_a_record_staged_after_the_chunk_was_looked_at_is_merged_not_lost(
    engine: Engine,
    gate: QualityGate,
    writer: StagingWriter,
    mapper: RecordMapper,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A callback may stage one of the chunk's records between the look and the write: on
    # PostgreSQL the chunk's one COPY then fails on the key and nothing of it may remain.
    load(engine, gate, writer, chunk_of(mapper, contacts(2, 2, firstName="Callback")))
    monkeypatch.setattr(writer, "any_staged", lambda _connection, _ids: False)
    later = contacts(2, 2, firstName="Newer", _info={"lastUpdated": "2025-01-01T00:00:00Z"})
    chunk = chunk_of(mapper, contacts(1, 1), later, contacts(3, 4))

    result = load(engine, gate, writer, chunk)

    assert result.counts == LoadCounts(inserted=3, updated=1)
    assert staged_names(engine) == {1: "First1", 2: "Newer", 3: "First3", 4: "First4"}


def test_loading_records_once_quarantined_resolves_their_rows(
    engine: Engine, gate: QualityGate, writer: StagingWriter, mapper: RecordMapper
) -> None:
    with engine.begin() as connection:
        held = Rejection(2, "email", "bad e-mail", "{}")
        quarantine(connection, "contacts", [held], "run-0")

    load(engine, gate, writer, chunk_of(mapper, contacts(1, 3)))

    assert open_quarantine(engine) == {}
    assert sorted(staged_names(engine)) == [1, 2, 3]


def test_a_chunk_that_fails_to_load_leaves_nothing_behind(
    engine: Engine, gate: QualityGate, writer: StagingWriter, mapper: RecordMapper
) -> None:
    bad_email = make_contact(3)
    bad_email["communicationItems"][0]["value"] = "not-an-email"
    rows, rejected = mapper.map_records(contacts(1, 2))
    refused = {**rows[0], "id": 4, "record_hash": None}  # a row the database refuses
    chunk = chunk_of(mapper, [bad_email])
    chunk.add([*rows, refused], rejected)

    with pytest.raises(Exception, match=r"(?i)null"):
        load(engine, gate, writer, chunk)

    assert staged_names(engine) == {}
    assert open_quarantine(engine) == {}
