"""Cross-table integrity check and the per-entity summary of what landed."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectwise.entities import REGISTRY, Registry
from connectwise.staging.database import is_postgres, utc_now
from connectwise.staging.writer import sql_value

log = logging.getLogger(__name__)


class CheckLine(Protocol):
    """One line of a preflight checklist, as ``meta_preflight`` stores it."""

    kind: str
    name: str
    endpoint: str
    ok: bool
    required: bool
    detail: str
    fix: str


@dataclass(frozen=True)
class Orphans:
    """Staged rows whose reference column points at no staged record."""

    entity: str
    column: str
    references: str
    count: int
    sample_ids: list[int]


def find_orphans(engine: Engine, registry: Registry = REGISTRY) -> list[Orphans]:
    """Count, per reference and link of every entity, rows pointing at nothing staged."""
    found = []
    with engine.connect() as connection:
        for entity in registry:
            for reference in (*entity.references, *entity.links):
                target = registry[reference.entity].staging_table
                where = (
                    f"FROM {entity.staging_table} s WHERE s.deleted_at IS NULL "
                    f"AND s.{reference.column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
                    f"{target} t WHERE t.id = s.{reference.column} AND t.deleted_at IS NULL)"
                )
                count = int(connection.execute(sa.text(f"SELECT COUNT(*) {where}")).scalar() or 0)
                sample = [
                    int(row[0])
                    for row in connection.execute(
                        sa.text(f"SELECT s.id {where} ORDER BY s.id LIMIT 10")
                    )
                ]
                found.append(
                    Orphans(entity.name, reference.column, reference.entity, count, sample)
                )
    return found


def record_integrity(engine: Engine, run_id: str, findings: list[Orphans]) -> None:
    """Store the findings of one run in ``meta_integrity``."""
    replace_run_rows(
        engine,
        "meta_integrity",
        run_id,
        [
            {
                "entity": item.entity,
                "column_name": item.column,
                "references_entity": item.references,
                "orphans": item.count,
                "sample_ids": ",".join(map(str, item.sample_ids)),
                "checked_at": utc_now(),
            }
            for item in findings
        ],
    )


def replace_run_rows(engine: Engine, table: str, run_id: str, rows: list[dict]) -> None:
    """Replace a run's rows of a report table (``run_id`` is added to each row)."""
    postgres = is_postgres(engine)
    with engine.begin() as connection:
        connection.execute(
            sa.text(f"DELETE FROM {table} WHERE run_id = :run_id"), {"run_id": run_id}
        )
        if not rows:
            return
        columns = ["run_id", *rows[0]]
        connection.execute(
            sa.text(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join(':' + column for column in columns)})"
            ),
            [
                {"run_id": run_id, **{k: sql_value(v, postgres=postgres) for k, v in row.items()}}
                for row in rows
            ],
        )


def entity_summary(engine: Engine, registry: Registry = REGISTRY) -> list[dict[str, object]]:
    """Per entity: staged rows, soft-deleted rows and open quarantine rows."""
    summary = []
    with engine.connect() as connection:
        quarantined = dict(
            connection.execute(
                sa.text(
                    "SELECT entity, COUNT(*) FROM meta_quarantine WHERE resolved_at IS NULL "
                    "GROUP BY entity"
                )
            )
            .tuples()
            .all()
        )
        for entity in registry:
            staged, deleted = connection.execute(
                sa.text(
                    "SELECT COUNT(*), COALESCE(SUM(CASE WHEN deleted_at IS NOT NULL THEN 1 "
                    f"ELSE 0 END), 0) FROM {entity.staging_table}"
                )
            ).one()
            summary.append(
                {
                    "entity": entity.name,
                    "table": entity.staging_table,
                    "rows": int(staged) - int(deleted),
                    "soft_deleted": int(deleted),
                    "quarantined": int(quarantined.get(entity.name, 0)),
                }
            )
    return summary


def format_summary(summary: list[dict[str, object]]) -> str:
    """Render the summary as a fixed-width table for logs and the terminal."""
    header = f"{'entity':<22}{'table':<26}{'rows':>9}{'deleted':>9}{'quarantined':>13}"
    lines = [header, "-" * len(header)]
    for item in summary:
        lines.append(
            f"{item['entity']!s:<22}{item['table']!s:<26}{item['rows']:>9}"
            f"{item['soft_deleted']:>9}{item['quarantined']:>13}"
        )
    total = sum(int(str(item["rows"])) for item in summary)
    lines.append(f"{'total':<48}{total:>9}")
    return "\n".join(lines)


def record_preflight(engine: Engine, run_id: str, results: Iterable[CheckLine]) -> None:
    """Store a preflight checklist in ``meta_preflight`` (replacing the run's earlier one)."""
    replace_run_rows(
        engine,
        "meta_preflight",
        run_id,
        [
            {
                "kind": result.kind,
                "name": result.name,
                "endpoint": result.endpoint,
                "ok": result.ok,
                "required": result.required,
                "detail": result.detail[:4000],
                "fix": result.fix or None,
                "checked_at": utc_now(),
            }
            for result in results
        ],
    )


@dataclass(frozen=True)
class EntryChange:
    """What installing or removing the callbacks did to one callback entry."""

    callback_id: int
    callback_type: str
    action: str  # created, updated, reactivated, unchanged, removed
    url: str  # masked
    inactive: bool


def record_callback_entries(
    engine: Engine, run_id: str, changes: Iterable[EntryChange], level: str
) -> None:
    """Record the entries' state in ``meta_callback_entries`` (removed ones are dropped)."""
    now = sql_value(utc_now(), postgres=is_postgres(engine))
    with engine.begin() as connection:
        for change in changes:
            connection.execute(
                sa.text("DELETE FROM meta_callback_entries WHERE callback_id = :id"),
                {"id": change.callback_id},
            )
            if change.action == "removed":
                continue
            connection.execute(
                sa.text(
                    "INSERT INTO meta_callback_entries (callback_id, callback_type, level, "
                    "url_masked, inactive, last_action, checked_at, run_id) VALUES (:id, "
                    ":type, :level, :url, :inactive, :action, :at, :run_id)"
                ),
                {
                    "id": change.callback_id,
                    "type": change.callback_type,
                    "level": level,
                    "url": change.url,
                    "inactive": change.inactive,
                    "action": change.action,
                    "at": now,
                    "run_id": run_id,
                },
            )
