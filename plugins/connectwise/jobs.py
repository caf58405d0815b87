"""The jobs the DAG tasks run, as plain functions (callable from tests and the CLI too)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from connectwise.diagnostics import diagnose_connection
from connectwise.engine import EntitySync, SyncRequest
from connectwise.entities import REGISTRY, Registry
from connectwise.errors import ConnectWiseConnectionError
from connectwise.hook import ConnectWiseHook
from connectwise.mapping.load import Mapping, load_mapping
from connectwise.mapping.references import check_references
from connectwise.staging import history, reports
from connectwise.staging.database import STAGING_CONN_ID, staging_engine
from connectwise.staging.migrations import evolve_columns, migrate

log = logging.getLogger(__name__)


@dataclass
class Job:
    """What every task needs: the mapping, the API hook and the staging database."""

    mapping: Mapping
    hook: ConnectWiseHook
    engine: Engine
    registry: Registry = REGISTRY


def open_job(
    conn_id: str = ConnectWiseHook.default_conn_name,
    staging_conn_id: str = STAGING_CONN_ID,
    mapping_path: str | None = None,
    *,
    engine: Engine | None = None,
) -> Job:
    """Validate the mapping (no API call), then bring the staging schema up to date.

    Raises:
        ConnectWiseMappingError: the mapping file is invalid.
    """
    mapping = load_mapping(mapping_path)
    database = engine or staging_engine(staging_conn_id)
    migrate(database)
    evolve_columns(database, mapping)
    return Job(mapping=mapping, hook=ConnectWiseHook(conn_id), engine=database)


def run_preflight(job: Job) -> dict[str, Any]:
    """Check the connection, then the mapping's names against the tenant.

    Raises:
        ConnectWiseConnectionError: the connection check failed; the message names the cause.
        ConnectWiseMappingError: the mapping names something the tenant does not have.
    """
    ok, message = diagnose_connection(job.hook)
    if not ok:
        raise ConnectWiseConnectionError(message)
    log.info("%s", message)
    check_references(job.hook, job.mapping)
    history.record_mapping_version(job.engine, job.mapping)
    log.info("Mapping %s (%s) matches the tenant", job.mapping.path, job.mapping.version)
    return {"mapping_version": job.mapping.version, "connection": message}


def run_sync(
    job: Job,
    entity_name: str,
    *,
    mode: str,
    run_id: str,
    changed_since: datetime | None = None,
) -> dict[str, Any]:
    """Sync one entity; return its figures."""
    if mode not in ("full", "incremental"):
        raise ValueError(f"mode must be 'full' or 'incremental', not {mode!r}")
    history.record_mapping_version(job.engine, job.mapping)
    sync = EntitySync(job.hook, job.engine, job.mapping, job.registry)
    request = SyncRequest(
        entity=job.registry[entity_name],
        mode="full" if mode == "full" else "incremental",
        run_id=run_id,
        changed_since=changed_since,
    )
    return sync.run(request)


def run_integrity_check(job: Job, run_id: str) -> list[dict[str, Any]]:
    """Check references across staging tables; record and log the orphans.

    Never fails: ConnectWise itself keeps dangling references (e.g. to deleted members).
    """
    findings = reports.find_orphans(job.engine, job.registry)
    reports.record_integrity(job.engine, run_id, findings)
    for item in findings:
        if item.count:
            log.warning(
                "%s.%s: %d rows point at no staged %s (e.g. ids %s)",
                item.entity,
                item.column,
                item.count,
                item.references,
                ", ".join(map(str, item.sample_ids)),
            )
    return [
        {"entity": item.entity, "column": item.column, "orphans": item.count} for item in findings
    ]


def run_summary(job: Job) -> list[dict[str, Any]]:
    """Log and return per-entity row counts of the staging tables."""
    summary = reports.entity_summary(job.engine, job.registry)
    log.info("What landed in staging:\n%s", reports.format_summary(summary))
    return summary
