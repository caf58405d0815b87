"""Versioned migrations, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from connectwise.entities import REGISTRY
from connectwise.errors import ConnectWiseConfigError
from connectwise.mapping.load import Mapping
from connectwise.staging.migrations import (
    load_migrations,
    migrate,
    migrations_dir,
)
from sqlalchemy.engine import Engine

META_TABLES = {
    "meta_schema_migrations",
    "meta_sync_runs",
    "meta_watermarks",
    "meta_quarantine",
    "meta_mapping_versions",
    "meta_integrity",
}


def columns_of(database: Engine, table: str) -> dict[str, str]:
    """Column name → type name (upper-case) of ``table``."""
    return {
        column["name"]: str(column["type"]).upper()
        for column in sa.inspect(database).get_columns(table)
    }


def copy_migrations(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), folder)
    return folder


# --- migrate ---------------------------------------------------------------------------------


def test_migrate_creates_every_meta_and_staging_table(bare_engine: Engine) -> None:
    applied = migrate(bare_engine)

    tables = set(sa.inspect(bare_engine).get_table_names())
    assert applied == [migration.version for migration in load_migrations()]
    assert tables >= META_TABLES
    assert {entity.staging_table for entity in REGISTRY} <= tables


def test_migrate_twice_applies_nothing_the_second_time(bare_engine: Engine) -> None:
    migrate(bare_engine)

    assert migrate(bare_engine) == []


def test_migrate_records_each_applied_version(bare_engine: Engine) -> None:
    migrate(bare_engine)
    with bare_engine.connect() as connection:
        recorded = connection.execute(
            sa.text("SELECT version, name FROM meta_schema_migrations ORDER BY version")
        ).all()
    expected = [(migration.version, migration.name) for migration in load_migrations()]
    assert [tuple(row) for row in recorded] == expected
    assert expected[:2] == [(1, "meta_tables"), (2, "staging_tables")]


def test_migrate_creates_staging_tables_with_every_shipped_mapped_column(
    bare_engine: Engine, shipped_mapping: Mapping
) -> None:
    migrate(bare_engine)

    for entity in REGISTRY:
        if not shipped_mapping.is_enabled(entity.name):
            continue
        mapped = set(shipped_mapping.fields_of(entity.name))
        assert mapped <= set(columns_of(bare_engine, entity.staging_table)), entity.name


def test_migrate_uses_native_json_and_timestamp_types_on_postgres(postgres_url: str) -> None:
    from connectwise.staging.database import create_staging_engine

    database = create_staging_engine(postgres_url)
    try:
        migrate(database)
        columns = columns_of(database, "stg_contacts")
    finally:
        database.dispose()
    assert columns["raw"] == "JSONB"
    assert columns["last_updated"] == "TIMESTAMP"  # WITH TIME ZONE; reflected as TIMESTAMP
    assert columns["company_id"] == "BIGINT"


def test_migrate_refuses_an_applied_migration_that_was_edited(
    bare_engine: Engine, tmp_path: Path
) -> None:
    folder = copy_migrations(tmp_path)
    migrate(bare_engine, folder)
    edited = folder / "0002_staging_tables.sql"
    edited.write_text(
        edited.read_text().replace("    title TEXT,\n", "    title TEXT,\n    nickname TEXT,\n")
    )

    with pytest.raises(ConnectWiseConfigError, match=r"0002_staging_tables\.sql changed after"):
        migrate(bare_engine, folder)


def test_migrate_applies_a_new_migration_file_only(bare_engine: Engine, tmp_path: Path) -> None:
    folder = copy_migrations(tmp_path)
    migrate(bare_engine, folder)
    (folder / "0099_notes.sql").write_text(
        "-- 0099: a table for notes; statements end with semicolons\n"
        "CREATE TABLE meta_notes (id BIGINT NOT NULL PRIMARY KEY, body TEXT);\n"
        "CREATE INDEX ix_meta_notes_body ON meta_notes (body);\n"
    )

    assert migrate(bare_engine, folder) == [99]
    assert "meta_notes" in sa.inspect(bare_engine).get_table_names()


def test_migrate_refuses_a_wrongly_named_file(bare_engine: Engine, tmp_path: Path) -> None:
    folder = copy_migrations(tmp_path)
    (folder / "3_extra.sql").write_text("SELECT 1;")

    with pytest.raises(ConnectWiseConfigError, match=r"NNNN_description\.sql"):
        migrate(bare_engine, folder)
