"""Read what staging already holds: ids, single fields and raw records of staged rows.

The contact filter takes company types from here instead of re-reading every company; child
entities find their parents here, re-mapping its raw records and reconciliation its ids.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from connectwise.staging.database import is_postgres
from connectwise.staging.writer import members, one_of, sql_value

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.engine import Engine

    from connectwise.entities import Entity

Record = dict[str, Any]
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def latest_raw_values(engine: Engine, entity: Entity, field: str) -> Iterator[tuple[int, Any]]:
    """Yield ``(id, raw[field])`` of the entity's latest known version of each live record.

    First the staged rows, then the records whose latest version is held in quarantine: that
    version is newer than the staged copy (an update that failed a check leaves the older row
    in place), so a caller keeping the last value per id gets the newest one.

    Raises:
        ValueError: ``field`` is not a plain top-level field name.
    """
    if not _FIELD.fullmatch(field):
        raise ValueError(f"{field!r} is not a top-level field name of a ConnectWise record")
    postgres = is_postgres(engine)

    def value_of(column: str) -> str:
        # PostgreSQL hands JSONB over decoded; SQLite's json_quote makes any value JSON text.
        if postgres:
            return f"{column}->'{field}'"
        return f"json_quote(json_extract({column}, '$.{field}'))"

    staged = sa.text(
        f"SELECT id, {value_of('raw')} FROM {entity.staging_table} WHERE deleted_at IS NULL"
    )
    quarantined = sa.text(
        f"SELECT record_id, {value_of('payload')} FROM meta_quarantine "
        "WHERE entity = :entity AND resolved_at IS NULL AND record_id IS NOT NULL"
    )
    with engine.connect() as connection:
        for statement in (staged, quarantined):
            result = connection.execution_options(stream_results=True).execute(
                statement, {"entity": entity.name}
            )
            for record_id, value in result:
                yield int(record_id), value if postgres else json.loads(value)


def live_and_deleted_ids(engine: Engine, table: str) -> tuple[set[int], set[int]]:
    """Return (live ids, soft-deleted ids) of a staging table."""
    live: set[int] = set()
    deleted: set[int] = set()
    with engine.connect() as connection:
        result = connection.execute(sa.text(f"SELECT id, deleted_at IS NOT NULL FROM {table}"))
        for record_id, is_deleted in result:
            (deleted if is_deleted else live).add(int(record_id))
    return live, deleted


def live_updated_since(engine: Engine, table: str, since: datetime) -> list[tuple[int, Any, Any]]:
    """``(id, loaded_at, last_updated)`` of the live rows updated at or after ``since``."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                f"SELECT id, loaded_at, last_updated FROM {table} "
                "WHERE deleted_at IS NULL AND last_updated >= :since ORDER BY id"
            ),
            {"since": sql_value(since, postgres=is_postgres(engine))},
        ).all()
    return [
        (int(record_id), loaded_at, last_updated) for record_id, loaded_at, last_updated in rows
    ]


def live_children(engine: Engine, table: str, parent_key: str, parent_ids: list[int]) -> list[int]:
    """Ids of the live staged rows whose raw ``parent_key`` is one of ``parent_ids``."""
    if not _FIELD.fullmatch(parent_key):
        raise ValueError(f"{parent_key!r} is not a top-level field name of a ConnectWise record")
    parent = (
        f"raw->>'{parent_key}'" if is_postgres(engine) else f"json_extract(raw, '$.{parent_key}')"
    )
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                f"SELECT id FROM {table} WHERE deleted_at IS NULL "
                f"AND CAST({parent} AS BIGINT) IN :parents"
            ).bindparams(sa.bindparam("parents", expanding=True)),
            {"parents": sorted(set(parent_ids))},
        )
        return [int(row[0]) for row in rows]


def raw_records(engine: Engine, table: str, record_ids: list[int]) -> list[Record]:
    """Return the staged raw records with these ids (live or soft-deleted)."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(f"SELECT raw FROM {table} WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": record_ids},
        )
        return [decoded(raw) for (raw,) in rows]


def live_count(engine: Engine, table: str) -> int:
    """How many rows of a staging table are not soft-deleted."""
    with engine.connect() as connection:
        count = connection.execute(
            sa.text(f"SELECT COUNT(*) FROM {table} WHERE deleted_at IS NULL")
        ).scalar()
    return int(count or 0)


def live_raw_pages(
    engine: Engine, table: str, page_rows: int
) -> Iterator[list[tuple[int, Record]]]:
    """Yield ``(id, raw record)`` of the live rows in id order, ``page_rows`` at a time.

    Keyset paging with a connection per page, so a long re-map holds no read open.
    """
    last_id = -1
    while True:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    f"SELECT id, raw FROM {table} WHERE deleted_at IS NULL "
                    "AND id > :last_id ORDER BY id LIMIT :limit"
                ),
                {"last_id": last_id, "limit": page_rows},
            ).all()
        if not rows:
            return
        yield [(int(record_id), decoded(raw)) for record_id, raw in rows]
        last_id = int(rows[-1][0])


def decoded(raw: Any) -> Record:
    """Decode a raw column: PostgreSQL hands JSONB over decoded, SQLite JSON text."""
    return raw if isinstance(raw, dict) else json.loads(raw)


def live_ids_among(engine: Engine, table: str, ids: Iterable[int]) -> set[int]:
    """Return which of ``ids`` are live rows of ``table``.

    The ids are one bound list (``writer.one_of``): a chunk's thousands of ids neither reach
    SQLite's limit of parameters nor make a statement text of their own for the caches.
    """
    listed = list(ids)
    if not listed:
        return set()
    postgres = is_postgres(engine)
    with engine.connect() as connection:
        result = connection.execute(
            sa.text(
                f"SELECT id FROM {table} WHERE deleted_at IS NULL "
                f"AND {one_of('id', postgres=postgres)}"
            ),
            {"members": members(listed, postgres=postgres)},
        )
        return {int(row[0]) for row in result}


def first_live_id_by_email(engine: Engine, table: str, emails: list[str]) -> dict[str, int]:
    """Return lower-cased email → lowest live id with that email (case-insensitive match)."""
    if not emails:
        return {}
    with engine.connect() as connection:
        result = connection.execute(
            sa.text(
                f"SELECT MIN(id), LOWER(email) FROM {table} WHERE deleted_at IS NULL "
                "AND LOWER(email) IN :emails GROUP BY LOWER(email)"
            ).bindparams(sa.bindparam("emails", expanding=True)),
            {"emails": emails},
        )
        return {str(email): int(first) for first, email in result}
