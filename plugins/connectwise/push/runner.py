"""Run one push flow over its outbox: claim batches, push rows, record outcomes, report.

Rows of a batch are pushed on ``max_parallel_requests`` threads (the connection's setting,
within the hook's request budget) when the flow allows it; outcomes are written on the
calling thread, one transaction per batch.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from connectwise.errors import ConnectWiseRequestError, ConnectWiseTransientError
from connectwise.progress import Progress
from connectwise.push.contacts import ContactPush
from connectwise.push.flow import PushContext, PushFlow, Row
from connectwise.push.names import TenantNames
from connectwise.push.quotes import QuotePush
from connectwise.push.stages import StageChangePush
from connectwise.push.todos import TodoPush
from connectwise.staging import history
from connectwise.staging.outbox import (
    Outcome,
    RowError,
    RowSkipped,
    claim,
    count_claimable,
    record,
    retry_later,
)
from connectwise.staging.push_runs import PushFigures, PushRun

if TYPE_CHECKING:
    from connectwise.jobs import Job

log = logging.getLogger(__name__)

# In DAG order: contacts first, so to-dos of just-pushed contacts find them on both sides.
FLOWS: dict[str, type[PushFlow]] = {
    "contacts": ContactPush,
    "todos": TodoPush,
    "quotes": QuotePush,
    "stages": StageChangePush,
}


def run_push(
    job: Job,
    flow_name: str,
    *,
    run_id: str,
    progress_seconds: float = 5.0,
) -> dict[str, Any]:
    """Push every waiting row of one flow's outbox; return the run's figures.

    Raises:
        ConnectWiseMappingError: a name of the ``push`` section is missing or unknown (before
            any row is touched).
        ConnectWiseConfigError: credentials or permissions failed; claimed rows stay in flight
            and are looked up before they are written again.
    """
    if flow_name not in FLOWS:
        raise ValueError(f"flow must be one of {', '.join(FLOWS)}, not {flow_name!r}")
    context = PushContext(job, TenantNames(job.hook, job.mapping), run_id)
    flow = FLOWS[flow_name](context)
    with history.run_history(PushRun(job.engine, run_id, flow.name), job.hook.stats) as run:
        waiting = count_claimable(job.engine, flow.table)
        if waiting:
            flow.prepare()
            _push_all(flow, run.figures, waiting, progress_seconds)
    figures = run.figures
    log.info(
        "push %s: %d rows: %d sent, %d failed, %d skipped, %d in flight (%d created, %d "
        "updated in ConnectWise, %d requests)",
        flow.name,
        figures.rows_claimed,
        figures.sent,
        figures.failed,
        figures.skipped,
        figures.in_flight,
        figures.created,
        figures.updated,
        figures.http_requests,
    )
    for line in figures.reports:
        log.warning("push %s: %s", flow.name, line)
    # What re-staging the pushed records changed: the push task's asset events come from it.
    return {"flow": flow.name, **figures.as_dict(), "staged": list(context.staged.values())}


def _push_all(flow: PushFlow, figures: PushFigures, waiting: int, every: float) -> None:
    context = flow.context
    settings = context.settings
    workers = max(1, flow.hook.site.max_parallel_requests) if flow.parallel else 1
    progress = Progress(f"push {flow.name}", waiting, every)
    after_id = 0
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"push-{flow.name}") as pool:
        while True:
            batch = claim(
                context.engine,
                flow.table,
                after_id=after_id,
                limit=settings.batch_rows,
                max_attempts=settings.max_attempts,
            )
            figures.rows_claimed += batch.gave_up
            figures.failed += batch.gave_up
            if not batch.rows and not batch.gave_up:
                break
            after_id = batch.last_id
            flow.prepare_batch(batch.rows)
            outcomes = list(pool.map(lambda row: _push_row(flow, row), batch.rows))
            record(context.engine, flow.table, outcomes)
            figures.add(outcomes)
            flow.after([outcome for outcome in outcomes if outcome.status == "sent"])
            progress.update(figures.rows_claimed)
    progress.done(figures.rows_claimed)


def _push_row(flow: PushFlow, row: Row) -> Outcome:
    """Push one row; turn what went wrong into the row's outcome."""
    try:
        return flow.push(row)
    except RowSkipped as exc:
        return Outcome(
            row["id"], "skipped", error=str(exc), report=str(exc) if exc.report else None
        )
    except (RowError, ConnectWiseRequestError) as exc:
        log.warning("push %s: row %s failed: %s", flow.name, row["id"], exc)
        return Outcome(row["id"], "failed", error=str(exc))
    except ConnectWiseTransientError as exc:
        # A 5xx, timeout or lost answer on a write: ConnectWise may have applied it.
        return _retry_later(flow, row, exc)


def _retry_later(flow: PushFlow, row: Row, exc: ConnectWiseTransientError) -> Outcome:
    settings = flow.context.settings
    outcome = retry_later(
        row,
        str(exc),
        max_attempts=settings.max_attempts,
        delay_seconds=settings.retry_delay_seconds,
    )
    if outcome.status == "failed":
        log.warning("push %s: row %s failed: %s", flow.name, row["id"], outcome.error)
    else:
        log.warning(
            "push %s: row %s is in flight (%s); attempt %d of %d at %s looks the record up first",
            flow.name,
            row["id"],
            exc,
            row["attempts"] + 1,
            settings.max_attempts,
            outcome.next_attempt_at,
        )
    return outcome
