"""One row per tenant: last success, lag, quarantine and the failing check, from its staging.

The ``connectwise_tenants`` DAG logs it on a schedule and the console's Tenants page shows it.
A tenant whose staging cannot be read gets a row saying why; the other rows are unaffected.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectwise.entities import REGISTRY
from connectwise.staging.health import EntityHealth, entity_health, latest_preflight
from connectwise.tenants import Tenant

log = logging.getLogger(__name__)
EngineOf = Callable[[Tenant], Engine]


@dataclass(frozen=True)
class TenantRow:
    """How one tenant stands."""

    tenant: str
    last_success_at: datetime | None  # of its stalest entity: the tenant is as fresh as that
    lag_seconds: float | None
    rows: int
    quarantined: int
    failed_entities: tuple[str, ...]  # whose latest run failed
    failing_check: str | None  # the first failed line of its latest preflight
    error: str | None = None  # its staging could not be read

    @property
    def healthy(self) -> bool:
        """No error, no failed entity, no failing check (quarantine alone is not unhealthy)."""
        return not (self.error or self.failed_entities or self.failing_check)


def tenant_overview(
    tenants: Iterable[Tenant], engine_of: EngineOf, now: datetime | None = None
) -> list[TenantRow]:
    """Read each tenant's row from its own staging (``engine_of(tenant)``)."""
    moment = now or datetime.now(UTC)
    return [_row(tenant, engine_of, moment) for tenant in tenants]


def _row(tenant: Tenant, engine_of: EngineOf, now: datetime) -> TenantRow:
    try:
        engine = engine_of(tenant)
        entities = [
            item for item in entity_health(engine, REGISTRY.names()) if item.last_run_status
        ]
        failing = [line for line in latest_preflight(engine) if not line.ok]
    except (sa.exc.SQLAlchemyError, OSError, ValueError) as exc:
        log.warning("Tenant %s: staging unreadable (%s)", tenant.label, type(exc).__name__)
        return TenantRow(tenant.label, None, None, 0, 0, (), None, error=_why(exc))
    stalest = _stalest(entities)
    return TenantRow(
        tenant=tenant.label,
        last_success_at=stalest,
        lag_seconds=(now - stalest).total_seconds() if stalest else None,
        rows=sum(item.rows for item in entities),
        quarantined=sum(item.quarantined for item in entities),
        failed_entities=tuple(item.entity for item in entities if item.last_run_status == "failed"),
        # The checklist lists failed required checks first.
        failing_check=f"{failing[0].name}: {failing[0].detail}" if failing else None,
    )


def _stalest(entities: list[EntityHealth]) -> datetime | None:
    if not entities or any(item.last_success_at is None for item in entities):
        return None
    return min(item.last_success_at for item in entities if item.last_success_at)


def _why(exc: BaseException) -> str:
    # The type and the first line only: a driver's message may quote a statement.
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__


def format_overview(rows: list[TenantRow]) -> str:
    """Write the rows as the aligned table the DAG logs."""
    header = ("tenant", "last success", "lag", "rows", "quarantined", "problem")
    lines = [header]
    for row in rows:
        problem = row.error or (
            f"failed: {', '.join(row.failed_entities)}" if row.failed_entities else None
        )
        lines.append(
            (
                row.tenant,
                row.last_success_at.strftime("%Y-%m-%d %H:%M UTC") if row.last_success_at else "—",
                f"{row.lag_seconds / 60:.0f} min" if row.lag_seconds is not None else "—",
                f"{row.rows:,}",
                f"{row.quarantined:,}",
                problem or row.failing_check or "ok",
            )
        )
    widths = [max(len(line[index]) for line in lines) for index in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False))
        + "  "
        + line[-1]
        for line in lines
    )
