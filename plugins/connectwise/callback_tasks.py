"""Airflow tasks for callbacks: install or remove the entries, apply the inbox.

Thin wrappers like ``connectwise.tasks``: configuration errors fail at once, callbacks that
are not configured (no ``callback_url``) skip with the reason, transient errors are retried.
Applying the inbox emits an asset event per staging table it changed, none when it changed
nothing.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

from airflow.sdk import get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

from connectwise.asset_events import change_from_sync, emit_changes, with_watermarks
from connectwise.assets import staging_change_outlets
from connectwise.errors import CallbacksNotConfiguredError
from connectwise.tasks import _fail_fast, _run_id


@task(task_id="install_callbacks", trigger_rule="none_failed")
@_fail_fast
def install_callbacks() -> list[dict[str, Any]]:
    """Create, fix or re-activate one callback entry per synced type (idempotent)."""
    from connectwise import jobs
    from connectwise.callbacks import install

    try:
        return install.install(jobs.open_job(), _run_id())
    except CallbacksNotConfiguredError as exc:
        raise AirflowSkipException(str(exc)) from None


@task(task_id="manage_callbacks")
@_fail_fast
def manage_callbacks() -> list[dict[str, Any]]:
    """Install (or, with ``action=uninstall``, remove) this project's callback entries."""
    from connectwise import jobs
    from connectwise.callbacks import install

    action = get_current_context()["params"]["action"]
    job = jobs.open_job()
    if action == "uninstall":
        return install.uninstall(job, _run_id())
    try:
        return install.install(job, _run_id())
    except CallbacksNotConfiguredError as exc:
        raise AirflowSkipException(str(exc)) from None


@task(task_id="apply_callbacks", outlets=staging_change_outlets(), multiple_outputs=False)
@_fail_fast
def apply_callbacks() -> dict[str, Any]:
    """Drain the callback inbox into staging (map → check → load; deletes soft-delete).

    Runs started by an asset event linger for more deliveries; the 10-minute sweep does not
    (it would only hold a worker slot). SIGTERM (a worker shutting down) ends the lingering at
    once: whatever was applied is committed, the rest waits in the inbox.
    """
    from connectwise import jobs
    from connectwise.callbacks import process

    context = get_current_context()
    params = context["params"]
    sweep = str(context["dag_run"].run_type).lower().endswith("scheduled")
    stop = threading.Event()
    job = jobs.open_job()
    run_id = _run_id()
    with _stop_on_sigterm(stop):
        result = process.drain(
            job,
            run_id,
            batch_size=int(params["batch_size"]),
            max_attempts=int(params["max_attempts"]),
            linger_seconds=0.0 if sweep else float(params["linger_seconds"]),
            stop=stop,
        )
    changes = [change_from_sync(figures, run_id) for figures in result["entities"].values()]
    emit_changes(context, with_watermarks(changes, job.engine), job.tenant.id)
    return result


@contextlib.contextmanager
def _stop_on_sigterm(stop: threading.Event) -> Iterator[None]:
    """Set ``stop`` on SIGTERM, then let the task runner's own handler run too."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum: int, frame: Any) -> None:
        stop.set()
        if callable(previous):
            previous(signum, frame)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
