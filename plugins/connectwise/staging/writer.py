"""Idempotent loads into staging tables, keyed by ConnectWise id.

Each chunk is classified against what is staged (new, changed, unchanged) and only new and
changed rows are written, in one transaction: on PostgreSQL through COPY into a temporary table
and one ``INSERT ... ON CONFLICT`` merge, on SQLite through upserts of many rows a statement.
Rerunning any chunk converges to the same table.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from connectwise.staging.database import is_postgres, utc_now

if TYPE_CHECKING:
    from connectwise.staging.pg_copy import TableCopy

Row = dict[str, Any]
ROW_BOOKKEEPING = ("raw", "record_hash", "last_updated", "mapping_version")  # set by the mapper
BOOKKEEPING = (*ROW_BOOKKEEPING, "run_id")
SQLITE_ROWS_PER_STATEMENT = 500
# Rows an SQLite upsert statement holds: powers of two and round hundreds (and fifties).
STATEMENT_ROWS = sorted({1 << power for power in range(9)} | set(range(50, 501, 50)))


@dataclass
class LoadCounts:
    """What one load did."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: LoadCounts) -> None:
        """Accumulate another chunk's counts."""
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged


def one_of(column: str, *, postgres: bool) -> str:
    """Return SQL saying ``column`` is one of the list bound as ``:members`` (:func:`members`).

    One statement text whatever the list: a chunk's thousands of ids inlined into the SQL made
    each statement unique, and SQLAlchemy's compiled cache and sqlite3's statement cache kept
    every one (tens of kilobytes each) for the life of the engine. As one parameter each, the
    list cost more to bind than the query took.
    """
    if postgres:
        return f"{column} = ANY(:members)"
    return f"{column} IN (SELECT value FROM json_each(:members))"


def members(values: Iterable[Any], *, postgres: bool) -> Any:
    """Bind ``values`` for :func:`one_of`: an array on PostgreSQL, a JSON array on SQLite."""
    listed = list(values)
    return listed if postgres else json.dumps(listed)


def sql_value(value: Any, *, postgres: bool) -> Any:
    """Adapt a Python value for the driver: SQLite stores timestamps as ISO-8601 UTC text.

    Text in that form sorts in time order (to the second), so analysts can compare it.
    """
    if isinstance(value, datetime) and not postgres:
        return iso_utc(value)
    return value


def iso_utc(value: datetime) -> str:
    """Write ``value`` as ``2024-05-01T12:00:00Z`` (microseconds only when it has them).

    ConnectWise's own timestamps have whole seconds and keep its format exactly.
    """
    moment = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return moment.isoformat()[:-6] + "Z"  # isoformat is C-fast; drop its "+00:00"


@dataclass(frozen=True)
class StagedRow:
    """What the writer needs to know about a row already staged."""

    record_hash: str
    is_deleted: bool
    mapping_version: str
    last_updated: datetime | None

    def is_current(self, row: Row, *, remap: bool) -> bool:
        """Tell whether writing ``row`` would change nothing (or roll the record back)."""
        newer = row.get("last_updated")
        if self.last_updated and newer and newer < self.last_updated and not self.is_deleted:
            return True
        return (
            row["record_hash"] == self.record_hash
            and not self.is_deleted
            and (not remap or row["mapping_version"] == self.mapping_version)
        )


def _as_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


class StagingWriter:
    """Load mapped rows of one entity into its staging table."""

    def __init__(
        self, engine: Engine, table: str, columns: Mapping[str, str], *, remap: bool = False
    ) -> None:
        """Write ``columns`` (mapped column -> its type) and the bookkeeping columns."""
        self.engine = engine
        self.table = table
        # Re-mapping rewrites rows whose mapping version differs even if the record did not.
        self.remap = remap
        self.postgres = is_postgres(engine)
        # A row's own values come first, then run_id, first_seen_at and loaded_at (per load).
        own = ["id", *columns, *ROW_BOOKKEEPING]
        self.write_columns = [*own, "run_id", "first_seen_at", "loaded_at"]
        self._own_values = itemgetter(*own)
        self._table_copy: TableCopy | None = None  # PostgreSQL's COPY, made at the first
        self._statements: dict[int, str] = {}  # SQLite's upserts, by rows a statement
        self._timestamp_positions = [
            position
            for position, column in enumerate(own)
            if column == "last_updated" or columns.get(column) == "timestamp"
        ]

    def load(
        self,
        connection: Connection,
        rows: list[Row],
        run_id: str,
        *,
        loaded_at: datetime | None = None,
    ) -> LoadCounts:
        """Upsert ``rows`` within ``connection``'s transaction; unchanged rows are skipped.

        ``loaded_at`` (default: now) stamps the rows: a chunk loaded part by part gives each
        part its transaction's one moment.

        A row is unchanged when its raw record hash matches the staged one and it is not
        soft-deleted; its mapping version then stays as it was (mapping changes apply to
        future changes only; the re-map mode re-applies them on purpose). A row older than
        the staged version (by ``lastUpdated``) is stale and never overwrites it: two runs
        reading at different times cannot roll a record back.
        """
        if not rows:
            return LoadCounts()
        staged = self._staged_state(connection, [row["id"] for row in rows])
        counts = LoadCounts()
        to_write: list[Row] = []
        for row in rows:
            previous = staged.get(row["id"])
            if previous is None:
                counts.inserted += 1
            elif previous.is_current(row, remap=self.remap):
                counts.unchanged += 1
                continue
            else:
                counts.updated += 1
            to_write.append(row)
        if to_write:
            values = self._values(to_write, run_id, loaded_at or utc_now())
            if self.postgres and counts.inserted == len(rows):
                self._copy_new(connection, values)
            elif self.postgres:
                self._merge_with_copy(connection, values)
            else:
                self._upsert_many(connection, values)
        return counts

    def _values(self, rows: list[Row], run_id: str, now: datetime) -> list[list[Any]]:
        """Return one list per row in ``write_columns`` order, adapted for the driver.

        Lists, not tuples: CPython keeps up to 2,000 freed tuples of each small size for
        reuse, so a part's rows as tuples stayed allocated (~400 KB) for the process's life.
        """
        stamp = sql_value(now, postgres=self.postgres)
        # SQLite stores timestamps as text: adapt only the columns that hold them.
        positions = () if self.postgres else self._timestamp_positions
        values = []
        for row in rows:
            cells = [*self._own_values(row), run_id, stamp, stamp]
            for position in positions:
                if isinstance(cells[position], datetime):
                    cells[position] = iso_utc(cells[position])
            values.append(cells)
        return values

    def _staged_state(self, connection: Connection, ids: list[int]) -> dict[int, StagedRow]:
        result = connection.execute(
            sa.text(
                "SELECT id, record_hash, deleted_at IS NOT NULL, mapping_version, last_updated "
                f"FROM {self.table} WHERE {one_of('id', postgres=self.postgres)}"
            ),
            {"members": members(ids, postgres=self.postgres)},
        )
        return {
            int(row[0]): StagedRow(row[1], bool(row[2]), row[3], _as_utc(row[4])) for row in result
        }

    def _upsert_sql(self, source: str) -> str:
        columns = ", ".join(self.write_columns)
        updates = ", ".join(
            f"{column} = excluded.{column}"
            for column in self.write_columns
            if column not in ("id", "first_seen_at")
        )
        return (
            f"INSERT INTO {self.table} ({columns}) {source} "
            f"ON CONFLICT (id) DO UPDATE SET {updates}, deleted_at = NULL"
        )

    def _upsert_many(self, connection: Connection, values: list[list[Any]]) -> None:
        """Upsert on SQLite, hundreds of rows a statement.

        sqlite3 lets go of the GIL for each statement it steps and must take it back after:
        with ``executemany`` (one step a row) a chunk's load waited on the sync's other
        threads thousands of times, and took several times as long as alone. Positional
        parameters go straight to sqlite3: SQLAlchemy's processing cost more than the insert.
        Statements hold one of :data:`STATEMENT_ROWS` rows, so a connection prepares a
        handful of statement texts, not one per remainder (sqlite3 keeps up to 128, each
        several kilobytes of placeholders), and a part of the sync's 100 rows is one statement.
        """
        per_statement = self._rows_per_statement(connection)
        start = 0
        while start < len(values):
            left = min(per_statement, len(values) - start)
            rows = max(size for size in STATEMENT_ROWS if size <= left)
            part = values[start : start + rows]
            connection.exec_driver_sql(
                self._upsert_statement(rows), tuple(chain.from_iterable(part))
            )
            start += rows

    def _upsert_statement(self, rows: int) -> str:
        if rows not in self._statements:
            self._statements[rows] = self._upsert_sql(f"VALUES {self._placeholders(rows)}")
        return self._statements[rows]

    def _rows_per_statement(self, connection: Connection) -> int:
        """Rows a statement, within this SQLite build's limit of parameters (999 before 3.32)."""
        dbapi = connection.connection.dbapi_connection
        limit = dbapi.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        return max(1, min(SQLITE_ROWS_PER_STATEMENT, limit // len(self.write_columns)))

    def _placeholders(self, rows: int) -> str:
        one = "(" + ", ".join("?" for _ in self.write_columns) + ")"
        return ", ".join([one] * rows)

    def any_staged(self, connection: Connection, ids: Iterable[int]) -> bool:
        """Tell whether any of ``ids`` is staged (soft-deleted or not)."""
        found = connection.execute(
            sa.text(
                f"SELECT 1 FROM {self.table} WHERE {one_of('id', postgres=self.postgres)} LIMIT 1"
            ),
            {"members": members(ids, postgres=self.postgres)},
        )
        return found.first() is not None

    def copy_new(
        self, connection: Connection, parts: Iterable[list[Row]], run_id: str, loaded_at: datetime
    ) -> int | None:
        """COPY the rows of ``parts``, none of them staged, into the table: one COPY for all.

        Return the rows written, or None if one turned out to be staged (a callback loaded it
        meanwhile): nothing is written then, and the caller loads the parts one by one.
        """
        written = 0

        def values() -> Iterator[list[Any]]:
            nonlocal written
            for rows in parts:
                written += len(rows)
                yield from self._values(rows, run_id, loaded_at)

        return written if self._copier().new_rows(connection, values()) else None

    def _copy_new(self, connection: Connection, values: list[list[Any]]) -> None:
        """COPY rows none of which is staged straight into the table.

        The merge through a temporary table wrote every row twice. A row staged meanwhile (a
        callback) makes the COPY fail on the key; the merge then loads the rows.
        """
        if not self._copier().new_rows(connection, values):
            self._merge_with_copy(connection, values)

    def _copier(self) -> TableCopy:
        # Imported here: psycopg costs ~70 ms to import, and every parse of a DAG file (the
        # dag-processor's, each task's) imports this module without ever copying.
        from connectwise.staging.pg_copy import TableCopy

        if self._table_copy is None:
            self._table_copy = TableCopy(self.table, self.write_columns)
        return self._table_copy

    def _merge_with_copy(self, connection: Connection, values: list[list[Any]]) -> None:
        temporary = f"_load_{self.table}"
        # Created per load (and dropped at commit) so it always has the table's current columns.
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS pg_temp.{temporary}")
        connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {temporary} "
            f"(LIKE {self.table} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        self._copier().rows(connection, values, into=temporary)
        columns = ", ".join(self.write_columns)
        connection.exec_driver_sql(self._upsert_sql(f"SELECT {columns} FROM {temporary}"))


def soft_delete(engine: Engine, table: str, ids: list[int]) -> int:
    """Set ``deleted_at`` on the given live ids; return how many rows it changed."""
    now = sql_value(utc_now(), postgres=is_postgres(engine))
    changed = 0
    with engine.begin() as connection:
        for start in range(0, len(ids), 500):
            changed += connection.execute(
                sa.text(
                    f"UPDATE {table} SET deleted_at = :now WHERE deleted_at IS NULL AND id IN :ids"
                ).bindparams(sa.bindparam("ids", expanding=True)),
                {"now": now, "ids": ids[start : start + 500]},
            ).rowcount
    return changed
