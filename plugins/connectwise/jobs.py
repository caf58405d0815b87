"""The jobs the DAG tasks run, as plain functions (callable from tests and the CLI too)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy.engine import Engine

from connectwise.client.hook import ConnectWiseHook
from connectwise.entities import REGISTRY, Registry
from connectwise.entity_sync import EntitySync
from connectwise.errors import ConnectWiseConnectionError, EntityDisabledError
from connectwise.mapping.load import Mapping, load_mapping
from connectwise.mapping.models import RECONCILE_INTERVAL_HOURS
from connectwise.mapping.references import SetupNames
from connectwise.preflight import format_checklist, run_checklist
from connectwise.preflight_mapping import check_mapping, format_coverage
from connectwise.quality.gate import prepare_suites
from connectwise.reconcile import reconcile
from connectwise.staging import history, reports
from connectwise.staging.database import staging_engine, utc_now
from connectwise.staging.migrations import migrate
from connectwise.staging.reports import record_preflight
from connectwise.staging.schema import ensure_schema
from connectwise.staging.site_cache import StagedCodebases
from connectwise.sync_request import SyncRequest
from connectwise.tenants import DEFAULT_TENANT, Tenant, current_tenant

log = logging.getLogger(__name__)
REREAD_COUNTS = ("inserted", "updated", "quarantined")  # of a reconciliation's re-reads


@dataclass
class Job:
    """What every task needs: the mapping, the API hook and the staging database."""

    mapping: Mapping
    hook: ConnectWiseHook
    engine: Engine
    registry: Registry = REGISTRY
    tenant: Tenant = DEFAULT_TENANT

    def syncs(self, entity_name: str) -> bool:
        """Tell whether an entity is synced (an optional one the mapping leaves out is not)."""
        return self.mapping.syncs(self.registry[entity_name])

    @cached_property
    def sync(self) -> EntitySync:
        """The sync loop over this job's hook, staging and mapping (one per task)."""
        return EntitySync(self.hook, self.engine, self.mapping, self.registry)


def open_job(
    tenant: Tenant | None = None,
    *,
    mapping_path: str | None = None,
    engine: Engine | None = None,
    registry: Registry = REGISTRY,
) -> Job:
    """Validate the mapping (no API call), then bring the staging schema up to date.

    ``tenant`` says which connections, schema and mapping to use; by default the running
    task's (from its DAG id), which outside a task and without a tenants file is the single
    tenant of ``connectwise_default`` and ``connectwise_staging``. The versioned migrations run
    first, then every entity's staging table, mapped column and the freshness view are
    generated from ``registry`` and the mapping.

    Raises:
        ConnectWiseMappingError: the mapping file is invalid.
    """
    tenant = tenant or current_tenant()
    mapping = load_mapping(mapping_path or tenant.mapping_file, registry)
    database = engine or staging_engine(tenant.staging_conn_id, schema=tenant.schema)
    migrate(database)
    ensure_schema(database, mapping.table_specs(registry))
    hook = ConnectWiseHook(tenant.connectwise_conn_id, codebases=StagedCodebases(database))
    return Job(mapping=mapping, hook=hook, engine=database, registry=registry, tenant=tenant)


def run_preflight(job: Job, run_id: str = "preflight", *, strict: bool = True) -> dict[str, Any]:
    """Run the setup checklist, record it in ``meta_preflight``, then check the mapping's names.

    Tenant values the mapping does not cover are recorded and logged as warnings (``coverage``
    lines) that never stop the run.

    Args:
        job: the opened job.
        run_id: the run the report rows belong to.
        strict: raise when a check the sync needs failed (the initial sync's first task); the
            ``connectwise_preflight`` DAG reports everything and fails on any failure.

    Raises:
        ConnectWiseConnectionError: a required check failed; the message is the checklist.
        ConnectWiseMappingError: the mapping names something the tenant does not have.
    """
    names = SetupNames(job.hook)  # setup tables the checklist and the mapping checks share
    results = run_checklist(job.hook, job.registry, names)
    record_preflight(job.engine, run_id, results)
    checklist = format_checklist(results)
    failed = [result for result in results if not result.ok]
    blocking = [result for result in failed if result.required or not strict]
    if blocking:
        raise ConnectWiseConnectionError(checklist)
    log.info("%s", checklist)
    coverage = check_mapping(job.hook, job.mapping, names)
    if coverage:
        results = [*results, *coverage]
        record_preflight(job.engine, run_id, results)
        log.warning("%s", format_coverage(coverage))
    history.record_mapping_version(job.engine, job.mapping.version_record())
    log.info("Mapping %s (%s) matches the tenant", job.mapping.path, job.mapping.version)
    enabled = [entity for entity in job.registry if job.mapping.syncs(entity)]
    expectations = prepare_suites(enabled)
    log.info("Quality suites ready: %d entities, %d expectations", len(enabled), expectations)
    return {
        "mapping_version": job.mapping.version,
        "checks": len(results),
        "warnings": [result.name for result in results if not result.ok],
        "quality_expectations": expectations,
    }


def run_sync(
    job: Job,
    entity_name: str,
    *,
    mode: str,
    run_id: str,
    changed_since: datetime | None = None,
    record_ids: list[int] | None = None,
) -> dict[str, Any]:
    """Sync one entity (``full``, ``incremental``, ``ids`` or ``remap``); return its figures.

    The figures include ``watermark``: the entity's watermark after the run (ISO 8601, None
    before its first full or incremental sync).
    """
    request = SyncRequest.for_mode(
        mode,
        job.registry[entity_name],
        run_id,
        changed_since=changed_since,
        record_ids=record_ids or (),
    )
    ensure_enabled(job, entity_name)
    history.record_mapping_version(job.engine, job.mapping.version_record())
    figures = job.sync.run(request)
    watermark = history.get_watermark(job.engine, entity_name)
    figures["watermark"] = watermark.isoformat() if watermark else None
    return figures


def ensure_enabled(job: Job, entity_name: str) -> None:
    """Raise for an optional entity the mapping leaves out.

    Raises:
        EntityDisabledError: the mapping file has no ``entities.<name>`` section.
    """
    reason = disabled_reason(job, entity_name)
    if reason:
        raise EntityDisabledError(reason)


def disabled_reason(job: Job, entity_name: str) -> str | None:
    """Say why an entity is not synced (an optional one the mapping leaves out), else None."""
    if job.syncs(entity_name):
        return None
    return (
        f"{entity_name} is optional and {job.mapping.path} has no entities.{entity_name} "
        "section, so it is not synced; add the section (see docs/mapping.md) to enable it."
    )


def reconcile_due(job: Job, entity_name: str) -> bool:
    """Tell whether the entity's last successful reconciliation is older than its interval."""
    hours = RECONCILE_INTERVAL_HOURS[job.mapping.config.settings.reconcile_interval]
    last = history.last_reconciled(job.engine, entity_name)
    return last is None or utc_now() - last >= timedelta(hours=hours) - timedelta(minutes=5)


def run_reconcile(job: Job, entity_name: str, *, run_id: str) -> dict[str, Any]:
    """Soft-delete records gone from ConnectWise and re-fetch soft-deleted ones that came back.

    Returns the counts, with ``inserted``, ``updated`` and ``quarantined`` of the re-reads
    (children re-read in full, records back from the dead).

    Raises:
        DeleteSafetyError: too large a share would be deleted; nothing was.
    """
    ensure_enabled(job, entity_name)
    entity = job.registry[entity_name]
    reread: list[dict[str, Any]] = []
    if entity.parent:
        # Children changed without their parent escape incremental runs: re-read them all.
        reread.append(run_sync(job, entity.name, mode="full", run_id=f"{run_id}:children"))
    run = history.SyncRun(
        job.engine, f"{run_id}:reconcile", entity.name, "reconcile", job.mapping.version
    )
    with history.run_history(run, job.hook.stats):
        found = reconcile(
            job.hook,
            job.engine,
            entity,
            max_delete_ratio=job.mapping.config.settings.max_delete_ratio,
        )
        run.figures.fetched = found.remote
        run.figures.deleted = len(found.deleted)
    if found.returned:
        log.info(
            "%s: %d soft-deleted records are back; re-fetching them",
            entity.name,
            len(found.returned),
        )
        reread.append(
            run_sync(
                job,
                entity.name,
                mode="ids",
                run_id=f"{run_id}:returned",
                record_ids=found.returned,
            )
        )
    counts = {key: sum(int(figures[key]) for figures in reread) for key in REREAD_COUNTS}
    return {**found.as_dict(), **counts}


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
    """Log and return per-entity row counts of the staging tables.

    Entities that are not synced (optional ones the mapping leaves out) carry ``not_synced``
    with the reason and how to enable them, in the log too: their skipped task says so only in
    its own log.
    """
    summary = reports.entity_summary(job.engine, job.registry)
    log.info("What landed in staging:\n%s", reports.format_summary(summary))
    for item in summary:
        reason = disabled_reason(job, str(item["entity"]))
        if reason:
            item["not_synced"] = reason
            log.info("Not synced: %s", reason)
    return summary
