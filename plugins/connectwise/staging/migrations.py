"""Versioned schema migrations (``include/sql/migrations``) and add-only column evolution."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from connectwise.entities import REGISTRY, Registry
from connectwise.errors import ConnectWiseConfigError
from connectwise.mapping.load import Mapping
from connectwise.paths import include_dir
from connectwise.staging.database import is_postgres, utc_now

log = logging.getLogger(__name__)

TOKENS = {
    "postgresql": {
        "JSON": "JSONB",
        "TIMESTAMP": "TIMESTAMP WITH TIME ZONE",
        "FLOAT": "DOUBLE PRECISION",
    },
    "sqlite": {"JSON": "TEXT", "TIMESTAMP": "TEXT", "FLOAT": "REAL"},
}
COLUMN_TYPES = {
    "text": "TEXT",
    "integer": "BIGINT",
    "number": "{{FLOAT}}",
    "boolean": "BOOLEAN",
    "timestamp": "{{TIMESTAMP}}",
    "json": "{{JSON}}",
}
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 7_242_611  # any constant: serialises concurrent migrators on PostgreSQL


@dataclass(frozen=True)
class Migration:
    """One versioned SQL file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """Hash of the file, so an edited, already-applied migration is noticed."""
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]


def migrations_dir() -> Path:
    """Folder of the versioned migration files."""
    return include_dir() / "sql" / "migrations"


def load_migrations(folder: Path | None = None) -> list[Migration]:
    """Read the migration files in version order."""
    found = []
    for path in sorted((folder or migrations_dir()).glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise ConnectWiseConfigError(
                f"{path}: migration files are named NNNN_description.sql (e.g. 0003_views.sql)"
            )
        found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    return found


def render(sql: str, dialect: str) -> str:
    """Replace the ``{{TOKEN}}`` type placeholders for ``dialect``."""
    for token, replacement in TOKENS[dialect].items():
        sql = sql.replace("{{" + token + "}}", replacement)
    return sql


def migrate(engine: Engine, folder: Path | None = None) -> list[int]:
    """Apply pending migrations in order, each in its own transaction; return their versions.

    Raises:
        ConnectWiseConfigError: an applied migration's file changed since it was applied.
    """
    applied_now = []
    with engine.begin() as connection:
        _lock(connection)
        connection.execute(
            sa.text(
                "CREATE TABLE IF NOT EXISTS meta_schema_migrations ("
                "version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, "
                "checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
        )
        applied = dict(
            connection.execute(sa.text("SELECT version, checksum FROM meta_schema_migrations"))
            .tuples()
            .all()
        )
        for migration in load_migrations(folder):
            if migration.version in applied:
                if applied[migration.version] != migration.checksum:
                    raise ConnectWiseConfigError(
                        f"Migration {migration.version:04d}_{migration.name}.sql changed after "
                        "it was applied; add a new migration file instead of editing it."
                    )
                continue
            for statement in _statements(render(migration.sql, engine.dialect.name)):
                connection.exec_driver_sql(statement)
            connection.execute(
                sa.text(
                    "INSERT INTO meta_schema_migrations (version, name, checksum, applied_at) "
                    "VALUES (:version, :name, :checksum, :applied_at)"
                ),
                {
                    "version": migration.version,
                    "name": migration.name,
                    "checksum": migration.checksum,
                    "applied_at": utc_now().isoformat(),
                },
            )
            applied_now.append(migration.version)
            log.info("Applied migration %04d_%s", migration.version, migration.name)
    return applied_now


def evolve_columns(engine: Engine, mapping: Mapping, registry: Registry = REGISTRY) -> list[str]:
    """Add staging columns that the mapping defines and the tables lack; return them.

    Add-only: a column the mapping no longer uses stays (with its history); a column whose
    type changed is reported, not altered.
    """
    added = []
    inspector = sa.inspect(engine)
    with engine.begin() as connection:
        for entity in registry:
            if not mapping.is_enabled(entity.mapping_section):
                continue
            existing = {column["name"] for column in inspector.get_columns(entity.staging_table)}
            for column, spec in mapping.fields_of(entity.mapping_section).items():
                if column in existing:
                    continue
                column_type = render(COLUMN_TYPES[spec.type], engine.dialect.name)
                connection.exec_driver_sql(
                    f"ALTER TABLE {entity.staging_table} ADD COLUMN {column} {column_type}"
                )
                added.append(f"{entity.staging_table}.{column}")
    for name in added:
        log.info("Added mapped column %s", name)
    return added


def _lock(connection: Connection) -> None:
    if is_postgres(connection.engine):
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    else:
        connection.exec_driver_sql("SELECT 1")  # SQLite serialises writers itself


def _statements(sql: str) -> list[str]:
    without_comments = "\n".join(
        line for line in sql.splitlines() if not line.strip().startswith("--")
    )
    return [part.strip() for part in without_comments.split(";") if part.strip()]
