"""Money columns as exact NUMERIC(18,4) on PostgreSQL, also in databases made before them.

Prices and costs used to be DOUBLE PRECISION. A column that should hold money is retyped in
place; PostgreSQL refuses that while a view reads the table, so every view depending on it
(ours and the analysts' own, also views over those views) is saved with its options, comment,
grants (also on columns), owner, triggers and, for a materialized view, its indexes, dropped,
and created again after, in the same transaction. SQLite keeps REAL: there is nothing to retype.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from connectwise.staging.database import is_postgres

log = logging.getLogger(__name__)
MONEY_TYPE = "NUMERIC(18,4)"
FLOAT_TYPES = ("double precision", "real")  # what a money column may be retyped from

# Views that depend on a table, at any distance, the farthest last (so "depth" orders
# creation: a view is deeper than every view it reads).
_DEPENDENT_VIEWS = """
WITH RECURSIVE dependent (oid, depth) AS (
    SELECT r.ev_class, 1
    FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
    WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
      AND d.refobjid = CAST(:table AS regclass) AND r.ev_class <> d.refobjid
    UNION  -- not ALL: a view reading several columns has a dependency on each
    SELECT r.ev_class, dependent.depth + 1
    FROM dependent
    JOIN pg_depend d ON d.refobjid = dependent.oid AND d.refclassid = 'pg_class'::regclass
    JOIN pg_rewrite r ON r.oid = d.objid AND d.classid = 'pg_rewrite'::regclass
    WHERE r.ev_class <> dependent.oid
)
SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relkind = 'm' AS materialized,
       pg_get_viewdef(c.oid) AS definition, c.reloptions AS options,
       obj_description(c.oid, 'pg_class') AS comment,
       CASE WHEN c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
            THEN quote_ident(pg_get_userbyid(c.relowner)) END AS owner,
       MAX(dependent.depth) AS depth,
       ARRAY(
           SELECT format('GRANT %s ON %I.%I TO %s%s', a.privilege_type, n.nspname, c.relname,
                         CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                              ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                         CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
           FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner
           UNION ALL
           SELECT format('GRANT %s (%I) ON %I.%I TO %s%s', a.privilege_type, att.attname,
                         n.nspname, c.relname,
                         CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                              ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                         CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
           FROM pg_attribute att, aclexplode(att.attacl) a
           WHERE att.attrelid = c.oid AND att.attacl IS NOT NULL
       ) AS grants,
       ARRAY(
           SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = c.oid
           UNION ALL
           SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t
           WHERE t.tgrelid = c.oid AND NOT t.tgisinternal
       ) AS attached
FROM dependent
JOIN pg_class c ON c.oid = dependent.oid
JOIN pg_namespace n ON n.oid = c.relnamespace
GROUP BY c.oid, n.nspname, c.relname
ORDER BY depth, name
"""


@dataclass(frozen=True)
class SavedView:
    """What it takes to create a dropped view again as it was."""

    name: str
    materialized: bool
    definition: str
    options: list[str] | None
    comment: str | None
    owner: str | None  # quoted; None when the current user owns it
    depth: int
    grants: list[str]  # on the view and on its columns
    attached: list[str]  # indexes (of a materialized view) and triggers (INSTEAD OF ...)

    def create_statements(self) -> list[str]:
        """Return the statements that create the view again, with everything saved."""
        kind = "MATERIALIZED VIEW" if self.materialized else "VIEW"
        options = f" WITH ({', '.join(self.options)})" if self.options else ""
        body = self.definition.strip().rstrip(";")
        statements = [f"CREATE {kind} {self.name}{options} AS {body}", *self.attached]
        if self.comment is not None:
            statements.append(f"COMMENT ON {kind} {self.name} IS {_literal(self.comment)}")
        if self.owner is not None:
            statements.append(f"ALTER {kind} {self.name} OWNER TO {self.owner}")
        return [*statements, *self.grants]


def money_columns_to_retype(
    connection: Connection, table: str, columns: Iterable[str]
) -> list[str]:
    """Return those of ``columns`` that ``table`` still stores as floating point."""
    wanted = list(columns)
    if not wanted or not is_postgres(connection.engine):
        return []
    found = connection.execute(
        sa.text(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = :table"
        ),
        {"table": table},
    ).tuples()
    floating = {name for name, data_type in found if data_type in FLOAT_TYPES}
    return [column for column in wanted if column in floating]


def retype_to_money(connection: Connection, table: str, columns: Iterable[str]) -> list[str]:
    """Make ``columns`` of ``table`` NUMERIC(18,4) where they are still floating point.

    Run inside the caller's transaction, under the schema lock. Returns ``table.column`` of
    each column retyped now; values are rounded to 4 places, as every new amount is.
    """
    pending = money_columns_to_retype(connection, table, columns)
    if not pending:
        return []
    views = [
        SavedView(**row)
        for row in connection.execute(sa.text(_DEPENDENT_VIEWS), {"table": table}).mappings()
    ]
    for view in reversed(views):
        kind = "MATERIALIZED VIEW" if view.materialized else "VIEW"
        connection.exec_driver_sql(f"DROP {kind} {view.name}")
    alterations = ", ".join(
        f"ALTER COLUMN {column} TYPE {MONEY_TYPE} USING round({column}::numeric, 4)"
        for column in pending
    )
    connection.exec_driver_sql(f"ALTER TABLE {table} {alterations}")
    for view in views:
        for statement in view.create_statements():
            # Without parameters psycopg still reads "%" as a placeholder ("LIKE 'SW-%'").
            connection.exec_driver_sql(statement.replace("%", "%%"))
    retyped = [f"{table}.{column}" for column in pending]
    log.info(
        "Money columns %s are now %s (views dropped and created again: %s)",
        ", ".join(retyped),
        MONEY_TYPE,
        ", ".join(view.name for view in views) or "none",
    )
    return retyped


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
