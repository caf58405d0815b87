"""PostgreSQL's binary COPY of staged rows.

The text format escaped every byte of each record's raw JSON on our side (~20 µs a row, the
largest single cost of a PostgreSQL load) and parsed every value back on the server's. The
binary format sends each value as PostgreSQL stores it, typed by the table's own columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from psycopg import postgres
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg.types.numeric import NumericBinaryDumper
from sqlalchemy.engine import Connection

_JSONB_VERSION = b"\x01"  # JSONB's binary input: a version byte, then the JSON text
UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE


class _JsonTextAsJsonb(Dumper):
    """Send JSON the mapper already serialised (raw records, JSON columns) as JSONB."""

    format = Format.BINARY
    oid = postgres.types["jsonb"].oid

    def dump(self, obj: str) -> bytes:
        return _JSONB_VERSION + obj.encode()


class _AnyNumberAsNumeric(NumericBinaryDumper):
    """Send a float to a NUMERIC column too (psycopg's own dumper refuses one).

    A column the mapping types ``number`` may be NUMERIC in the database (made exact as
    ``money`` before, or by an analyst); its value goes in by its shortest text, as written.
    """

    def dump(self, obj: Any) -> Any:
        return super().dump(Decimal(repr(obj)) if isinstance(obj, float) else obj)


def column_types(connection: Connection, table: str, columns: Sequence[str]) -> list[int]:
    """Return the type oid of each of ``columns`` of ``table``, in that order."""
    result = connection.exec_driver_sql(
        "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %(table)s::regclass "
        "AND attnum > 0 AND NOT attisdropped",
        {"table": table},
    )
    types = {name: int(oid) for name, oid in result}
    return [types[column] for column in columns]


def copy_rows(
    connection: Connection,
    table: str,
    columns: Sequence[str],
    types: Sequence[int],
    rows: Iterable[Sequence[Any]],
) -> None:
    """COPY ``rows`` (values in ``columns`` order, of ``types``) into ``table``, in binary.

    ``rows`` may be read as they are written: a chunk's parts one after another, one COPY.
    """
    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None
    with driver_connection.cursor() as cursor:
        cursor.adapters.register_dumper(None, _JsonTextAsJsonb)  # this cursor only
        cursor.adapters.register_dumper(None, _AnyNumberAsNumeric)
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(list(types))
            for row in rows:
                copy.write_row(row)


class TableCopy:
    """COPY rows into one staging table, or into a temporary table made like it."""

    def __init__(self, table: str, columns: Sequence[str]) -> None:
        self.table = table
        self.columns = list(columns)
        self._types: list[int] | None = None  # the table's, read at the first COPY

    def rows(
        self, connection: Connection, rows: Iterable[Sequence[Any]], into: str | None = None
    ) -> None:
        """COPY ``rows`` (in ``columns`` order) into the table, or the temporary ``into``."""
        if self._types is None:
            self._types = column_types(connection, self.table, self.columns)
        copy_rows(connection, into or self.table, self.columns, self._types, rows)

    def new_rows(self, connection: Connection, rows: Iterable[Sequence[Any]]) -> bool:
        """COPY rows none of which should be staged; False, with nothing written, if one is.

        A row staged meanwhile (a callback) fails the COPY on the key, and its savepoint undoes
        what the COPY wrote.
        """
        try:
            with connection.begin_nested():
                self.rows(connection, rows)
        except Exception as exc:  # the driver's own error: COPY bypasses SQLAlchemy
            if getattr(exc, "sqlstate", None) != UNIQUE_VIOLATION:
                raise
            return False
        return True
