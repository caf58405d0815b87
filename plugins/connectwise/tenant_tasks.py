"""The ``connectwise_tenants`` DAG's task: every tenant's row, logged as one table."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from airflow.sdk import task

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from connectwise.tenants import Tenant

log = logging.getLogger(__name__)


@task(task_id="overview")
def tenants_overview() -> list[dict[str, Any]]:
    """Read each tenant's staging and log one row per tenant; warn about the unhealthy ones."""
    from connectwise.staging.database import staging_engine
    from connectwise.staging.migrations import migrate
    from connectwise.tenant_overview import format_overview, tenant_overview
    from connectwise.tenants import dag_tenants

    engines: list[Engine] = []

    def engine_of(tenant: Tenant) -> Engine:
        engine = staging_engine(tenant.staging_conn_id, schema=tenant.schema)
        engines.append(engine)
        migrate(engine)  # a tenant that never ran still gets its (empty) row
        return engine

    try:
        rows = tenant_overview(dag_tenants(), engine_of)
    finally:
        for engine in engines:
            engine.dispose()
    log.info("Tenants:\n%s", format_overview(rows))
    for row in rows:
        if not row.healthy:
            log.warning(
                "Tenant %s needs attention: %s",
                row.tenant,
                row.error or row.failing_check or f"failed: {', '.join(row.failed_entities)}",
            )
    return [
        {
            **asdict(row),
            "failed_entities": list(row.failed_entities),
            "last_success_at": row.last_success_at.isoformat() if row.last_success_at else None,
        }
        for row in rows
    ]
