"""Staging tables and the freshness view generated from the registry and the mapping.

On SQLite and PostgreSQL: add-only evolution of mapped columns, a new entity's table, and an
upgrade of a database created by the versioned migrations alone, without loss.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from connectwise.entities import REGISTRY
from connectwise.mapping.load import Mapping, load_mapping
from connectwise.staging.migrations import migrate
from connectwise.staging.schema import TableSpec, create_table_statements, ensure_schema
from sqlalchemy.engine import Engine

ACTIVITIES = TableSpec(
    entity="activities",
    table="stg_activities",
    columns={"name": "text", "company_id": "integer", "due_at": "timestamp"},
)


def columns_of(database: Engine, table: str) -> dict[str, str]:
    """Column name → type name (upper-case) of ``table``."""
    return {
        column["name"]: str(column["type"]).upper()
        for column in sa.inspect(database).get_columns(table)
    }


def freshness(database: Engine) -> dict[str, tuple[int, int]]:
    with database.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT entity, row_count, soft_deleted FROM v_sync_freshness")
        ).all()
    return {entity: (int(count), int(deleted)) for entity, count, deleted in rows}


@pytest.fixture
def mapping_with(
    mapping_document: dict[str, Any], write_mapping: Callable[..., Path]
) -> Callable[..., Mapping]:
    """Load the shipped mapping with some contacts fields added, replaced or removed."""

    def build(*, remove: tuple[str, ...] = (), **fields: Any) -> Mapping:
        contact_fields = mapping_document["entities"]["contacts"]["fields"]
        contact_fields.update(fields)
        for column in remove:
            del contact_fields[column]
        return load_mapping(write_mapping(mapping_document))

    return build


# --- the shipped entities ---------------------------------------------------------------------


def test_the_generated_tables_are_the_migrated_ones(
    engine: Engine, shipped_mapping: Mapping
) -> None:
    """The one definition of a staging table matches what the migrations created, upgraded.

    (The migrations made prices floating point; the upgrade makes them exact money.)
    """
    dialect = engine.dialect.name
    synced = [spec for spec in shipped_mapping.table_specs() if spec.columns]
    ensure_schema(engine, synced)
    with engine.begin() as connection:
        for spec in synced:
            twin = TableSpec(spec.entity, f"gen_{spec.entity}", spec.columns)
            for statement in create_table_statements(twin, dialect):
                connection.exec_driver_sql(statement)

    assert len(synced) == len(REGISTRY) - 1  # agreement additions are opt-in
    for spec in synced:
        assert columns_of(engine, f"gen_{spec.entity}") == columns_of(engine, spec.table), (
            spec.table
        )


def test_the_shipped_mapping_creates_nothing_and_rerunning_changes_nothing(
    engine: Engine, shipped_mapping: Mapping
) -> None:
    first = ensure_schema(engine, shipped_mapping.table_specs())
    second = ensure_schema(engine, shipped_mapping.table_specs())

    assert (first.tables, first.columns) == ([], [])
    assert (second.tables, second.columns, second.retyped, second.view_replaced) == (
        [],
        [],
        [],
        False,
    )
    assert set(freshness(engine)) == {entity.name for entity in REGISTRY}


# --- mapped columns: add-only -----------------------------------------------------------------


def test_a_newly_mapped_column_is_added(
    engine: Engine, mapping_with: Callable[..., Mapping]
) -> None:
    mapping = mapping_with(nickname="nickName", age={"source": "age", "type": "integer"})

    changes = ensure_schema(engine, mapping.table_specs())

    assert changes.columns == ["stg_contacts.nickname", "stg_contacts.age"]
    columns = columns_of(engine, "stg_contacts")
    assert columns["nickname"] == "TEXT"
    assert columns["age"] == "BIGINT"
    assert ensure_schema(engine, mapping.table_specs()).columns == []


def test_a_column_the_mapping_no_longer_uses_stays(
    engine: Engine, mapping_with: Callable[..., Mapping]
) -> None:
    mapping = mapping_with(remove=("title",))

    assert ensure_schema(engine, mapping.table_specs()).columns == []
    assert "title" in columns_of(engine, "stg_contacts")


def test_an_existing_column_is_not_retyped(
    engine: Engine, mapping_with: Callable[..., Mapping]
) -> None:
    before = columns_of(engine, "stg_contacts")["title"]
    mapping = mapping_with(title={"source": "title", "type": "integer"})

    assert ensure_schema(engine, mapping.table_specs()).columns == []
    assert columns_of(engine, "stg_contacts")["title"] == before


# --- a new entity, and an upgrade ------------------------------------------------------------


def test_a_new_entity_gets_its_table_and_a_line_in_the_freshness_view(
    engine: Engine, shipped_mapping: Mapping
) -> None:
    specs = [*shipped_mapping.table_specs(), ACTIVITIES]

    changes = ensure_schema(engine, specs)

    assert changes.tables == ["stg_activities"]
    assert changes.view_replaced
    columns = columns_of(engine, "stg_activities")
    assert list(columns)[:4] == ["id", "name", "company_id", "due_at"]
    assert {"raw", "record_hash", "last_updated", "deleted_at", "loaded_at"} <= set(columns)
    assert freshness(engine)["activities"] == (0, 0)


def test_a_database_made_by_the_migrations_alone_upgrades_without_loss(
    engine: Engine, shipped_mapping: Mapping
) -> None:
    """Today's databases were made by migrate() only; generation keeps every row and view."""
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO stg_company_types (id, name, raw, record_hash, mapping_version, "
                "first_seen_at, loaded_at, deleted_at) VALUES (1, 'Client', '{}', 'h', 'v', "
                ":now, :now, NULL), (2, 'Gone', '{}', 'h', 'v', :now, :now, :now)"
            ),
            {"now": "2026-11-27T00:00:00+00:00"},
        )

    ensure_schema(engine, [*shipped_mapping.table_specs(), ACTIVITIES])
    migrate(engine)  # later migrations still apply on top

    with engine.connect() as connection:
        names = connection.execute(sa.text("SELECT name FROM stg_company_types ORDER BY id"))
        assert [row[0] for row in names] == ["Client", "Gone"]
    view = freshness(engine)
    assert view["company_types"] == (1, 1)
    assert set(view) == {entity.name for entity in REGISTRY} | {"activities"}


def test_the_schema_lock_holds_other_writers_off_until_commit(tmp_path: Path) -> None:
    """Two tasks adding the same new table: the second waits, then sees the first's table."""
    import sqlite3

    from connectwise.staging.database import create_staging_engine
    from connectwise.staging.migrations import lock_schema

    path = tmp_path / "staging.db"
    database = create_staging_engine(f"sqlite:///{path}")
    migrate(database)
    other = sqlite3.connect(path, timeout=0.2, isolation_level=None)
    with database.begin() as connection:
        lock_schema(connection)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")  # free again after the commit
    other.execute("ROLLBACK")
    other.close()
    database.dispose()


def test_the_schema_lock_on_postgresql_holds_off_its_own_schema_only(postgres_url: str) -> None:
    """Tenants share one database: a task migrating tenant A never waits for tenant B's."""
    from connectwise.staging.database import create_schema, create_staging_engine, tenant_url
    from connectwise.staging.migrations import lock_schema
    from sqlalchemy.engine import make_url

    tenant_a = create_staging_engine(postgres_url)
    other_schema = f"{make_url(postgres_url).query['options'].split('=')[1]}_b"
    tenant_b = create_staging_engine(tenant_url(make_url(postgres_url), other_schema))
    create_schema(tenant_b, other_schema)

    def lock_within_a_moment(engine: Engine) -> None:
        with engine.begin() as connection:
            connection.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
            lock_schema(connection)

    try:
        with tenant_a.begin() as connection:
            lock_schema(connection)
            lock_within_a_moment(tenant_b)  # another schema: not held off
            with pytest.raises(sa.exc.OperationalError, match="lock timeout"):
                lock_within_a_moment(tenant_a)
        lock_within_a_moment(tenant_a)  # free again after the commit
    finally:
        with tenant_a.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{other_schema}" CASCADE')
        tenant_a.dispose()
        tenant_b.dispose()
