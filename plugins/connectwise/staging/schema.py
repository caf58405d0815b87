"""The staging tables and the freshness view, generated from the registry and the mapping.

Each entity's ``stg_<entity>`` table is its mapped columns plus one definition of the
bookkeeping columns; ``v_sync_freshness`` unions them all. Both follow the registry, so adding
an entity needs no migration. Versioned migrations keep what cannot be derived (the meta
tables, the analyst views, the outbox). Add-only: a table or a column is created when missing,
never dropped, and retyped only from floating point to money (``staging/money.py``), so
upgrading an existing database loses nothing. The view is replaced only when the set of
tables changed (its checksum is kept in ``meta_generated``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from connectwise.staging.database import utc_now
from connectwise.staging.migrations import COLUMN_TYPES, lock_schema, render
from connectwise.staging.money import retype_to_money

log = logging.getLogger(__name__)
FRESHNESS_VIEW = "v_sync_freshness"

# What every staging table has besides its mapped columns, in this order after them.
BOOKKEEPING: tuple[tuple[str, str], ...] = (
    ("raw", "{{JSON}} NOT NULL"),  # the record as ConnectWise returned it
    ("record_hash", "TEXT NOT NULL"),  # change detection
    ("last_updated", "{{TIMESTAMP}}"),  # the entity's cursor (_info.lastUpdated)
    ("mapping_version", "TEXT NOT NULL"),  # the mapping the row was mapped with
    ("run_id", "TEXT"),
    ("first_seen_at", "{{TIMESTAMP}} NOT NULL"),
    ("loaded_at", "{{TIMESTAMP}} NOT NULL"),
    ("deleted_at", "{{TIMESTAMP}}"),  # set when the record disappeared from ConnectWise
)


@dataclass(frozen=True)
class TableSpec:
    """One entity's staging table: its mapped columns (column → column type) and indexes."""

    entity: str
    table: str
    columns: Mapping[str, str] = field(default_factory=dict)
    indexed: tuple[str, ...] = ()  # mapped columns looked up often (a child's parent id)


@dataclass
class SchemaChanges:
    """What :func:`ensure_schema` created."""

    tables: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    retyped: list[str] = field(default_factory=list)  # floating point → money
    view_replaced: bool = False


def ensure_schema(engine: Engine, specs: Sequence[TableSpec]) -> SchemaChanges:
    """Create missing staging tables and mapped columns, and the view over all the tables.

    Runs under the migrations' lock, so concurrent tasks create each object once.
    """
    changes = SchemaChanges()
    with engine.begin() as connection:
        lock_schema(connection)
        existing = _columns_by_table(connection, [spec.table for spec in specs])
        for spec in specs:
            if spec.table not in existing:
                for statement in create_table_statements(spec, engine.dialect.name):
                    connection.exec_driver_sql(statement)
                changes.tables.append(spec.table)
            else:
                _evolve_table(connection, spec, existing[spec.table], changes)
        changes.view_replaced = _ensure_view(connection, freshness_view_sql(specs))
    for name in [*changes.tables, *changes.columns]:
        log.info("Created staging %s %s", "table" if "." not in name else "column", name)
    return changes


def _columns_by_table(connection: Connection, tables: list[str]) -> dict[str, dict[str, Any]]:
    """Each existing table's columns (name → type), read in one catalog query, not one a table.

    Every task opens its job here, so this runs once per task: on PostgreSQL one query for all
    the staging tables costs a fraction of one reflection per table.
    """
    inspector = sa.inspect(connection)
    found = inspector.get_multi_columns(filter_names=tables)
    return {
        table: {item["name"]: item["type"] for item in columns}
        for (_, table), columns in found.items()
    }


def _evolve_table(
    connection: Connection, spec: TableSpec, present: Mapping[str, Any], changes: SchemaChanges
) -> None:
    """Add the mapped columns ``spec.table`` lacks; make its floating-point money exact."""
    for column, kind in spec.columns.items():
        if column not in present:
            column_type = render(COLUMN_TYPES[kind], connection.engine.dialect.name)
            connection.exec_driver_sql(
                f"ALTER TABLE {spec.table} ADD COLUMN {column} {column_type}"
            )
            changes.columns.append(f"{spec.table}.{column}")
    floating_money = [
        column
        for column, kind in spec.columns.items()
        if kind == "money" and isinstance(present.get(column), sa.Float)
    ]
    changes.retyped.extend(retype_to_money(connection, spec.table, floating_money))


def create_table_statements(spec: TableSpec, dialect: str) -> list[str]:
    """Return the ``CREATE TABLE`` and ``CREATE INDEX`` statements of one staging table."""
    columns = [
        "id BIGINT NOT NULL PRIMARY KEY",
        *(f"{name} {COLUMN_TYPES[kind]}" for name, kind in spec.columns.items() if name != "id"),
        *(f"{name} {definition}" for name, definition in BOOKKEEPING),
    ]
    body = ",\n    ".join(columns)
    statements = [
        f"CREATE TABLE {spec.table} (\n    {body}\n)",
        f"CREATE INDEX ix_{spec.table}_last_updated ON {spec.table} (last_updated)",
        *(f"CREATE INDEX ix_{spec.table}_{name} ON {spec.table} ({name})" for name in spec.indexed),
    ]
    return [render(statement, dialect) for statement in statements]


def freshness_view_sql(specs: Iterable[TableSpec]) -> str:
    """Return ``v_sync_freshness``: per entity its rows, quarantine, watermark and last run."""
    counts = "\n    UNION ALL\n".join(
        f"    SELECT '{spec.entity}' AS entity, COUNT(*) AS total_rows,\n"
        "           SUM(CASE WHEN deleted_at IS NOT NULL THEN 1 ELSE 0 END) AS soft_deleted\n"
        f"    FROM {spec.table}"
        for spec in specs
    )
    return f"""CREATE VIEW {FRESHNESS_VIEW} AS
WITH row_counts AS (
{counts}
),
open_quarantine AS (
    SELECT entity, COUNT(*) AS quarantined
    FROM meta_quarantine
    WHERE resolved_at IS NULL
    GROUP BY entity
),
latest_run AS (
    SELECT r.entity, r.run_id, r.mode, r.status, r.error, r.started_at
    FROM meta_sync_runs r
    WHERE r.started_at = (
        SELECT MAX(x.started_at) FROM meta_sync_runs x WHERE x.entity = r.entity
    )
)
SELECT
    c.entity,
    w.last_success_at,
    w.last_full_sync_at,
    w.watermark,
    c.total_rows - COALESCE(c.soft_deleted, 0) AS row_count,
    COALESCE(c.soft_deleted, 0) AS soft_deleted,
    COALESCE(q.quarantined, 0) AS quarantined,
    l.run_id AS last_run_id,
    l.mode AS last_run_mode,
    l.status AS last_run_status,
    CASE WHEN l.status = 'failed' THEN l.error END AS last_error
FROM row_counts c
LEFT JOIN meta_watermarks w ON w.entity = c.entity
LEFT JOIN open_quarantine q ON q.entity = c.entity
LEFT JOIN latest_run l ON l.entity = c.entity"""


def _ensure_view(connection: Connection, sql: str) -> bool:
    """Replace the freshness view when its generated definition changed; tell whether it did."""
    checksum = hashlib.sha256(sql.encode()).hexdigest()[:16]
    known = connection.execute(
        sa.text("SELECT checksum FROM meta_generated WHERE name = :name"),
        {"name": FRESHNESS_VIEW},
    ).scalar()
    if known == checksum:
        return False
    connection.exec_driver_sql(f"DROP VIEW IF EXISTS {FRESHNESS_VIEW}")
    connection.exec_driver_sql(sql)
    connection.execute(
        sa.text("DELETE FROM meta_generated WHERE name = :name"), {"name": FRESHNESS_VIEW}
    )
    connection.execute(
        sa.text(
            "INSERT INTO meta_generated (name, checksum, generated_at) "
            "VALUES (:name, :checksum, :at)"
        ),
        {"name": FRESHNESS_VIEW, "checksum": checksum, "at": utc_now().isoformat()},
    )
    return True
