"""Idempotent loads into staging and the quarantine table, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from connectwise.entities import REGISTRY
from connectwise.mapping.apply import RecordMapper, canonical_json
from connectwise.mapping.load import Mapping
from connectwise.staging.history import as_datetime
from connectwise.staging.quarantine import quarantine, resolve_quarantine
from connectwise.staging.records import Rejection
from connectwise.staging.writer import LoadCounts, StagingWriter
from sqlalchemy.engine import Engine

Row = dict[str, Any]
OLD = "2020-01-01T00:00:00Z"


def make_contact(record_id: int, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": record_id,
        "firstName": f"First{record_id}",
        "lastName": "Example",
        "company": {"id": 250, "identifier": "Acme"},
        "communicationItems": [
            {
                "communicationType": "Email",
                "value": f"c{record_id}@example.com",
                "defaultFlag": True,
            }
        ],
        "inactiveFlag": False,
        "_info": {"lastUpdated": "2024-05-06T07:08:09Z"},
    }
    record.update(fields)
    return record


@pytest.fixture
def contact_rows(shipped_mapping: Mapping) -> Callable[..., list[Row]]:
    """Map contact records with the shipped mapping: ``contact_rows(make_contact(1), ...)``."""
    mapper = RecordMapper(REGISTRY["contacts"], shipped_mapping)

    def rows(*records: dict[str, Any]) -> list[Row]:
        mapped, rejections = mapper.map_records(records)
        assert rejections == []
        return mapped

    return rows


@pytest.fixture
def writer(engine: Engine, shipped_mapping: Mapping) -> StagingWriter:
    columns = RecordMapper(REGISTRY["contacts"], shipped_mapping).columns
    return StagingWriter(engine, "stg_contacts", columns)


def load(
    engine: Engine, writer: StagingWriter, rows: list[Row], run_id: str = "run-1"
) -> LoadCounts:
    with engine.begin() as connection:
        return writer.load(connection, rows, run_id)


def counts(inserted: int = 0, updated: int = 0, unchanged: int = 0) -> LoadCounts:
    return LoadCounts(inserted=inserted, updated=updated, unchanged=unchanged)


def staged(engine: Engine, table: str = "stg_contacts") -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [
            tuple(row) for row in connection.execute(sa.text(f"SELECT * FROM {table} ORDER BY id"))
        ]


def staged_row(engine: Engine, record_id: int) -> dict[str, Any]:
    with engine.connect() as connection:
        return dict(
            connection.execute(
                sa.text("SELECT * FROM stg_contacts WHERE id = :id"), {"id": record_id}
            )
            .mappings()
            .one()
        )


def execute(engine: Engine, sql: str, **params: Any) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text(sql), params)


# --- load ------------------------------------------------------------------------------------


def test_first_load_inserts_every_row(engine: Engine, writer: StagingWriter, contact_rows) -> None:
    assert load(engine, writer, contact_rows(make_contact(1), make_contact(2))) == counts(
        inserted=2
    )
    assert [row[0] for row in staged(engine)] == [1, 2]


def test_load_stores_mapped_values_and_bookkeeping(
    engine: Engine, writer: StagingWriter, contact_rows, shipped_mapping: Mapping
) -> None:
    load(engine, writer, contact_rows(make_contact(1)), run_id="run-7")

    row = staged_row(engine, 1)

    assert (row["first_name"], row["company_id"], row["email"]) == ("First1", 250, "c1@example.com")
    assert bool(row["is_inactive"]) is False
    assert row["run_id"] == "run-7"
    assert row["mapping_version"] == shipped_mapping.version
    assert as_datetime(row["last_updated"]) == as_datetime("2024-05-06T07:08:09Z")
    assert row["deleted_at"] is None


def test_awkward_values_arrive_exactly(engine: Engine, writer: StagingWriter, contact_rows) -> None:
    # What COPY must carry unchanged: quotes, backslashes, tabs, newlines, non-ASCII and an
    # escaped NUL in the raw JSON; ids at the edge of 64 bits; sub-second timestamps.
    awkward = 'O\'Brien "the \\ one"\tline\nnext ü €'
    records = [
        make_contact(
            9_223_372_036_854_775_807,
            firstName=awkward,
            title=None,
            customFields=[{"id": 1, "caption": "Note", "value": "a\\u0000b"}],
            _info={"lastUpdated": "2024-05-06T07:08:09.123456Z"},
        ),
        make_contact(2, lastName="  ", inactiveFlag=True),
    ]
    rows = contact_rows(*records)

    assert load(engine, writer, rows) == counts(inserted=2)

    edge = staged_row(engine, 9_223_372_036_854_775_807)
    assert edge["first_name"] == awkward
    assert edge["record_hash"] == rows[0]["record_hash"]
    raw = edge["raw"] if isinstance(edge["raw"], dict) else json.loads(edge["raw"])
    assert raw == json.loads(rows[0]["raw"])
    assert as_datetime(edge["last_updated"]) == as_datetime("2024-05-06T07:08:09.123456Z")
    other = staged_row(engine, 2)
    assert (other["last_name"], bool(other["is_inactive"])) == ("  ", True)


def test_a_chunk_larger_than_one_statement_lands_whole_and_exact(
    engine: Engine, writer: StagingWriter, contact_rows
) -> None:
    # SQLite writes hundreds of rows a statement: three full statements and a remainder here.
    rows = contact_rows(*(make_contact(number, lastName=f"L{number}") for number in range(1, 1538)))
    assert load(engine, writer, rows) == counts(inserted=1537)
    assert load(engine, writer, rows) == counts(unchanged=1537)
    with engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT id, last_name FROM stg_contacts")).all()
    assert sorted(stored) == [(number, f"L{number}") for number in range(1, 1538)]


def test_an_sqlite_built_with_few_parameters_gets_fewer_rows_a_statement(
    engine: Engine, writer: StagingWriter, contact_rows
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's parameter limit")
    with engine.connect() as connection:  # the pool hands this connection out again below
        connection.connection.dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    rows = contact_rows(*(make_contact(number) for number in range(1, 101)))
    assert load(engine, writer, rows) == counts(inserted=100)
    assert [row[0] for row in staged(engine)] == list(range(1, 101))


def test_a_record_staged_between_the_check_and_the_write_is_merged_not_lost(
    engine: Engine, writer: StagingWriter, contact_rows, monkeypatch
) -> None:
    # On PostgreSQL an all-new chunk is COPYed straight into the table; a callback staging one
    # of its records meanwhile must make it fall back to the merge, not fail the chunk.
    load(engine, writer, contact_rows(make_contact(1, firstName="Old")))
    monkeypatch.setattr(writer, "_staged_state", lambda _connection, _ids: {})

    assert load(engine, writer, contact_rows(make_contact(1, firstName="New"), make_contact(2)))

    assert [(row[0], staged_row(engine, row[0])["first_name"]) for row in staged(engine)] == [
        (1, "New"),
        (2, "First2"),
    ]


def test_chunks_of_other_records_run_the_same_statements(
    engine: Engine, writer: StagingWriter, contact_rows
) -> None:
    """Ids are bound, not written into the SQL: caches keep one statement, not one per chunk."""
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", seen)
    chunks = [[make_contact(1), make_contact(2)], [make_contact(30), make_contact(40)]]
    texts = []
    for records in chunks:
        statements.clear()
        load(engine, writer, contact_rows(*records))
        with engine.begin() as connection:
            resolve_quarantine(connection, "contacts", [record["id"] for record in records])
        texts.append(
            [
                text
                for text in statements
                if "SELECT id, record_hash" in text or "UPDATE meta_quarantine" in text
            ]
        )
    sa.event.remove(engine, "before_cursor_execute", seen)

    assert len(texts[0]) == 2 and texts[0] == texts[1]
    assert not any(str(record["id"]) in text for text in texts[1] for record in chunks[1])


def test_loads_of_every_size_prepare_a_handful_of_upserts(
    engine: Engine, writer: StagingWriter, contact_rows
) -> None:
    """A chunk loads part by part, each of its own size: the upserts' texts stay few."""
    if writer.postgres:
        pytest.skip("PostgreSQL loads through COPY")
    upserts: set[str] = set()

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT INTO stg_contacts"):
            upserts.add(statement)

    sa.event.listen(engine, "before_cursor_execute", seen)
    first = 1
    for size in range(1, 130):
        load(engine, writer, contact_rows(*(make_contact(n) for n in range(first, first + size))))
        first += size
    sa.event.remove(engine, "before_cursor_execute", seen)

    assert len(upserts) <= 10  # 1, 2, 4, ... 128, 50 and 100 rows a statement
    with engine.connect() as connection:
        staged = connection.execute(sa.text("SELECT COUNT(*) FROM stg_contacts")).scalar()
    assert staged == first - 1


def test_load_of_nothing_writes_nothing(engine: Engine, writer: StagingWriter) -> None:
    assert load(engine, writer, []) == counts()


def test_rerun_of_the_same_rows_counts_them_unchanged(
    engine: Engine, writer: StagingWriter, contact_rows
) -> None:
    rows = contact_rows(make_contact(1), make_contact(2))
    load(engine, writer, rows)

    assert load(engine, writer, rows, run_id="run-2") == counts(unchanged=2)


def test_rerun_of_the_same_rows_leaves_the_table_identical(
    engine: Engine, writer: StagingWriter, contact_rows
) -> None:
    rows = contact_rows(make_contact(1), make_contact(2), make_contact(3))
    load(engine, writer, rows)
    before = staged(engine)

    load(engine, writer, rows, run_id="run-2")

    assert staged(engine) == before


def test_load_counts_inserted_updated_and_unchanged_across_reruns(
    engine: Engine, writer: StagingWriter, contact_rows
) -> None:
    load(engine, writer, contact_rows(make_contact(1), make_contact(2), make_contact(3)))

    second = load(
        engine,
        writer,
        contact_rows(make_contact(2, lastName="Changed"), make_contact(3), make_contact(4)),
        run_id="run-2",
    )

    assert second == counts(inserted=1, updated=1, unchanged=1)
    assert staged_row(engine, 2)["last_name"] == "Changed"
    assert staged_row(engine, 2)["run_id"] == "run-2"
    assert staged_row(engine, 3)["run_id"] == "run-1"  # unchanged rows are not rewritten


def test_update_keeps_first_seen_at_and_moves_loaded_at(
    engine: Engine, writer: StagingWriter, contact_rows
) -> None:
    load(engine, writer, contact_rows(make_contact(1)))
    execute(engine, "UPDATE stg_contacts SET first_seen_at = :old, loaded_at = :old", old=OLD)
    old = as_datetime(staged_row(engine, 1)["first_seen_at"])

    load(engine, writer, contact_rows(make_contact(1, title="CEO")), run_id="run-2")

    row = staged_row(engine, 1)
    assert row["title"] == "CEO"
    assert as_datetime(row["first_seen_at"]) == old
    assert as_datetime(row["loaded_at"]) > old  # type: ignore[operator]


def test_loading_a_soft_deleted_row_again_undeletes_it(
    engine: Engine, writer: StagingWriter, contact_rows
) -> None:
    rows = contact_rows(make_contact(1), make_contact(2))
    load(engine, writer, rows)
    execute(engine, "UPDATE stg_contacts SET deleted_at = :old WHERE id = 1", old=OLD)

    result = load(engine, writer, rows, run_id="run-2")

    assert result == counts(updated=1, unchanged=1)
    assert staged_row(engine, 1)["deleted_at"] is None


def test_load_takes_part_in_the_callers_transaction(
    engine: Engine, writer: StagingWriter, contact_rows
) -> None:
    with pytest.raises(RuntimeError), engine.begin() as connection:
        writer.load(connection, contact_rows(make_contact(1)), "run-1")
        raise RuntimeError("the chunk failed after loading")

    assert staged(engine) == []


def test_load_into_a_table_with_an_evolved_column(
    engine: Engine, shipped_mapping: Mapping, contact_rows
) -> None:
    execute(engine, "ALTER TABLE stg_contacts ADD COLUMN nickname TEXT")
    columns = {**RecordMapper(REGISTRY["contacts"], shipped_mapping).columns, "nickname": "text"}
    writer = StagingWriter(engine, "stg_contacts", columns)
    rows = [{**row, "nickname": "Ace"} for row in contact_rows(make_contact(1))]

    load(engine, writer, rows)

    assert staged_row(engine, 1)["nickname"] == "Ace"


def test_load_after_adding_a_column_on_the_same_engine(
    postgres_url: str, shipped_mapping: Mapping, contact_rows
) -> None:
    from connectwise.staging.database import create_staging_engine
    from connectwise.staging.migrations import migrate

    database = create_staging_engine(postgres_url)
    try:
        migrate(database)
        columns = RecordMapper(REGISTRY["contacts"], shipped_mapping).columns
        load(
            database,
            StagingWriter(database, "stg_contacts", columns),
            contact_rows(make_contact(1)),
        )
        execute(database, "ALTER TABLE stg_contacts ADD COLUMN nickname TEXT")
        evolved = StagingWriter(database, "stg_contacts", {**columns, "nickname": "text"})
        rows = [{**row, "nickname": "Ace"} for row in contact_rows(make_contact(2))]

        load(database, evolved, rows, run_id="run-2")

        assert staged_row(database, 2)["nickname"] == "Ace"
    finally:
        database.dispose()


# --- quarantine ------------------------------------------------------------------------------


def make_rejection(
    record_id: int | None, reason: str = "email 'x' is not valid", check: str = "format"
) -> Rejection:
    record = {"id": record_id, "firstName": "X"} if record_id is not None else {"firstName": "X"}
    return Rejection(record_id, check, reason, canonical_json(record))


def quarantine_rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        result = connection.execute(
            sa.text(
                "SELECT entity, record_key, record_id, run_id, check_name, reason, resolved_at "
                "FROM meta_quarantine ORDER BY record_key"
            )
        )
        return [dict(row) for row in result.mappings()]


def put_in_quarantine(engine: Engine, rejections: list[Rejection], run_id: str = "run-1") -> int:
    with engine.begin() as connection:
        return quarantine(connection, "contacts", rejections, run_id)


def test_quarantine_records_a_rejection(engine: Engine) -> None:
    assert put_in_quarantine(engine, [make_rejection(5)]) == 1

    assert quarantine_rows(engine) == [
        {
            "entity": "contacts",
            "record_key": "5",
            "record_id": 5,
            "run_id": "run-1",
            "check_name": "format",
            "reason": "email 'x' is not valid",
            "resolved_at": None,
        }
    ]


def test_quarantine_keeps_one_open_row_per_record_with_the_latest_reason(engine: Engine) -> None:
    put_in_quarantine(engine, [make_rejection(5, "first reason")])

    put_in_quarantine(engine, [make_rejection(5, "first_name is missing", "not_null")], "run-2")

    [row] = quarantine_rows(engine)
    assert (row["reason"], row["check_name"], row["run_id"]) == (
        "first_name is missing",
        "not_null",
        "run-2",
    )


def test_quarantine_of_nothing_writes_nothing(engine: Engine) -> None:
    assert put_in_quarantine(engine, []) == 0
    assert quarantine_rows(engine) == []


def test_quarantine_keys_a_record_without_id_by_its_payload_hash(engine: Engine) -> None:
    put_in_quarantine(engine, [make_rejection(None), make_rejection(None)])

    [row] = quarantine_rows(engine)
    assert row["record_key"].startswith("hash:")
    assert row["record_id"] is None


def test_resolve_quarantine_resolves_the_open_row(engine: Engine) -> None:
    put_in_quarantine(engine, [make_rejection(5), make_rejection(6)])

    with engine.begin() as connection:
        resolve_quarantine(connection, "contacts", [5])

    resolved = {row["record_id"]: row["resolved_at"] is not None for row in quarantine_rows(engine)}
    assert resolved == {5: True, 6: False}


def test_resolve_quarantine_only_touches_its_entity(engine: Engine) -> None:
    put_in_quarantine(engine, [make_rejection(5)])

    with engine.begin() as connection:
        resolve_quarantine(connection, "companies", [5])

    assert quarantine_rows(engine)[0]["resolved_at"] is None


def test_quarantining_a_resolved_record_again_reopens_it(engine: Engine) -> None:
    put_in_quarantine(engine, [make_rejection(5)])
    with engine.begin() as connection:
        resolve_quarantine(connection, "contacts", [5])

    put_in_quarantine(engine, [make_rejection(5, "broken again")], "run-3")

    [row] = quarantine_rows(engine)
    assert (row["resolved_at"], row["reason"]) == (None, "broken again")


def test_an_older_version_never_overwrites_a_newer_one(
    engine: Engine, writer: StagingWriter, contact_rows
) -> None:
    newer = make_contact(7, title="Director", _info={"lastUpdated": "2024-06-01T00:00:00Z"})
    older = make_contact(7, title="Intern", _info={"lastUpdated": "2024-05-01T00:00:00Z"})
    load(engine, writer, contact_rows(newer))

    assert load(engine, writer, contact_rows(older)) == counts(unchanged=1)
    assert staged_row(engine, 7)["title"] == "Director"
