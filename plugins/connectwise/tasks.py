"""Airflow tasks: thin wrappers that run a job and translate errors for Airflow.

A configuration error (bad connection, mapping, permissions) becomes ``AirflowFailException``
so Airflow does not retry what cannot succeed; transient errors propagate and are retried.
Tasks that change staging tables emit an asset event per changed table (``asset_events``).

Jobs are imported inside the tasks: the DAG processor parses DAG files often, and pandas and
Great Expectations cost seconds to import.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.sdk import get_current_context, task
from airflow.sdk.exceptions import (
    AirflowFailException,
    AirflowSkipException,
    DownstreamTasksSkipped,
)

from connectwise.asset_events import (
    TableChange,
    change_from_reconcile,
    change_from_sync,
    emit_changes,
    with_watermarks,
)
from connectwise.assets import staging_asset, staging_change_outlets
from connectwise.dag_graph import sync_units
from connectwise.entities import REGISTRY
from connectwise.errors import ConnectWiseConfigError, EntityDisabledError

if TYPE_CHECKING:
    from connectwise.jobs import Job

T = TypeVar("T")
log = logging.getLogger(__name__)
# Tasks returning a dict say multiple_outputs=False: TaskFlow infers True from the annotation
# and pushes every key as an XCom of its own too, one execution-API call each.

# The flows re-stage what they pushed: contacts (contacts), opportunities (quotes, stages).
PUSH_OUTLETS = staging_change_outlets(("contacts", "opportunities"))


def _fail_fast(function: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return function(*args, **kwargs)
        except EntityDisabledError as exc:
            # Airflow logs a skip's reason inside the collapsed "Post Execute" group: say it here.
            log.info("Skipped: %s", exc)
            raise AirflowSkipException(str(exc)) from None
        except ConnectWiseConfigError as exc:
            raise AirflowFailException(str(exc)) from None

    return wrapper


def _run_id() -> str:
    try:
        return str(get_current_context()["dag_run"].run_id)
    except RuntimeError:  # called outside a task (tests, the CLI): label the run by its time
        return f"adhoc__{datetime.now(UTC):%Y-%m-%dT%H:%M:%S}"


@task(task_id="preflight", multiple_outputs=False)
@_fail_fast
def preflight() -> dict[str, Any]:
    """Check mapping, connection, modules and the mapping's names before any sync."""
    from connectwise import jobs

    return jobs.run_preflight(jobs.open_job(), _run_id(), strict=True)


@task(task_id="check_setup", multiple_outputs=False)
@_fail_fast
def check_setup() -> dict[str, Any]:
    """Run the whole setup checklist; fail on any failed item, with the fix for each."""
    from connectwise import jobs

    return jobs.run_preflight(jobs.open_job(), _run_id(), strict=False)


@task(trigger_rule="none_failed", multiple_outputs=False)
@_fail_fast
def sync_entities(entity_names: list[str], mode: str = "full") -> list[dict[str, Any]]:
    """Sync entities of the registry into their staging tables, one after another."""
    return _sync_each(entity_names, lambda _: {"mode": mode})


def _sync_each(
    entity_names: list[str], options: Callable[[str], dict[str, Any] | None]
) -> list[dict[str, Any]]:
    """Sync each entity with its ``options`` (None: leave it out); return their figures.

    One entity's failure stops none of the others (the lookups share a task): each is logged,
    and the first is raised at the end, so its kind decides between retry and fail-fast.
    """
    from connectwise import jobs

    job = jobs.open_job()
    run_id = _run_id()
    results, failures = [], []
    for name in entity_names:
        chosen = options(name)
        if chosen is None:
            continue
        try:
            results.append(jobs.run_sync(job, name, run_id=run_id, **chosen))
        except Exception as exc:  # raised below, after the others ran
            if len(entity_names) == 1:
                raise
            log.error("%s was not synced: %s", name, exc)
            failures.append(exc)
    _announce([change_from_sync(result, run_id) for result in results], job)
    if failures:
        raise failures[0]
    return results


@task(trigger_rule="none_failed", outlets=staging_change_outlets())
@_fail_fast
def reconcile_deletes(entity_names: list[str], force: bool = False) -> list[dict[str, Any]]:
    """Soft-delete staged records gone from ConnectWise (when due, or always with ``force``)."""
    from connectwise import jobs

    job = jobs.open_job()
    run_id = _run_id()
    results = []
    for name in entity_names:
        if not job.syncs(name):
            continue
        if force or jobs.reconcile_due(job, name):
            results.append(jobs.run_reconcile(job, name, run_id=run_id))
    changes = [change_from_reconcile(result, run_id) for result in results]
    _announce(with_watermarks(changes, job.engine), job)
    return results


@task(task_id="check_integrity", trigger_rule="none_failed")
@_fail_fast
def check_integrity() -> list[dict[str, Any]]:
    """Count staged rows whose references point at nothing staged."""
    from connectwise import jobs

    return jobs.run_integrity_check(jobs.open_job(), _run_id())


@task(
    task_id="summarize",
    trigger_rule="none_failed",
    inlets=[staging_asset(entity) for entity in REGISTRY],  # it reads every staging table
)
@_fail_fast
def summarize() -> list[dict[str, Any]]:
    """Log per-entity row counts of the staging tables, and why an entity is not synced."""
    from connectwise import jobs

    return jobs.run_summary(jobs.open_job())


@task(task_id="plan")
@_fail_fast
def plan_manual_sync() -> None:
    """Validate the form (before any API call), decide which entities run in which mode.

    The plan goes to XCom under the key ``plan``; every task it leaves out is marked skipped
    at once (as a short-circuit does), so no process is ever started for it. A branch could
    not: it leaves alone the tasks downstream of a followed one.
    """
    from connectwise.manual import plan_manual_sync as build_plan

    context = get_current_context()
    plan = build_plan(dict(context["params"]))
    log.info(
        "Manual %s sync of %s%s",
        plan.mode,
        ", ".join(plan.selected),
        f" (first bringing {', '.join(plan.dependencies)} up to date)" if plan.dependencies else "",
    )
    context["ti"].xcom_push(key="plan", value=plan.as_dict())
    planned = set(plan.planned())
    left_out = [unit.task_id for unit in sync_units() if not planned & set(unit.names)]
    if not plan.find_deleted:
        left_out.append("reconcile_planned")
    if left_out:
        log.info("Not planned, skipped: %s", ", ".join(left_out))
        raise DownstreamTasksSkipped(tasks=left_out)


@task(trigger_rule="none_failed", multiple_outputs=False)
@_fail_fast
def sync_planned_entities(entity_names: list[str], plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Sync the entities of this task as the manual plan says (it skips unplanned tasks)."""
    from connectwise.manual import ManualPlan

    manual = ManualPlan.from_dict(plan)
    if all(manual.mode_of(name) is None for name in entity_names):
        # only when run outside the plan, e.g. a cleared task re-run alone
        raise AirflowSkipException(f"{', '.join(entity_names)} not selected")

    def options(name: str) -> dict[str, Any] | None:
        mode = manual.mode_of(name)
        if mode is None:
            return None
        since = manual.changed_since if name in manual.selected else None
        return {"mode": mode, "changed_since": since}

    return _sync_each(entity_names, options)


@task(task_id="reconcile_planned", trigger_rule="none_failed", outlets=staging_change_outlets())
@_fail_fast
def reconcile_planned(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Look for deleted records of the selected entities, when the form asks for it."""
    from connectwise import jobs
    from connectwise.manual import ManualPlan

    manual = ManualPlan.from_dict(plan)
    if not manual.find_deleted:  # only when run outside the plan, e.g. a cleared task alone
        raise AirflowSkipException("this run does not look for deleted records")
    job = jobs.open_job()
    run_id = _run_id()
    results = [
        jobs.run_reconcile(job, name, run_id=run_id) for name in manual.selected if job.syncs(name)
    ]
    changes = [change_from_reconcile(result, run_id) for result in results]
    _announce(with_watermarks(changes, job.engine), job)
    return results


@task(task_id="push", outlets=PUSH_OUTLETS, multiple_outputs=False)
@_fail_fast
def push_outbox(flow: str) -> dict[str, Any]:
    """Push the waiting rows of one outbox (contacts, todos, quotes, stages) to ConnectWise."""
    from connectwise import jobs
    from connectwise.push.runner import run_push

    job = jobs.open_job()
    run_id = _run_id()
    result = run_push(job, flow, run_id=run_id)
    changes = [change_from_sync(staged, run_id, mode="push") for staged in result["staged"]]
    _announce(with_watermarks(changes, job.engine), job)
    return result


def _announce(changes: list[TableChange], job: Job) -> None:
    """Emit the asset events of the running task's changed tables, on its tenant's assets."""
    emit_changes(get_current_context(), changes, job.tenant.id)
