"""Read single fields of staged raw records, so a sync can look up what it already holds.

The contact filter takes company types from here instead of re-reading every company.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from connectwise.staging.database import is_postgres

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from connectwise.entities import Entity

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
