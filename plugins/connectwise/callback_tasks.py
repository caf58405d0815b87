"""Airflow tasks for callbacks: install or remove the entries, apply the inbox.

Thin wrappers like ``connectwise.tasks``: configuration errors fail at once, callbacks that
are not configured (no ``callback_url``) skip with the reason, transient errors are retried.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

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


@task(task_id="apply_callbacks")
@_fail_fast
def apply_callbacks() -> dict[str, Any]:
    """Drain the callback inbox into staging (map → check → load; deletes soft-delete)."""
    from connectwise import jobs
    from connectwise.callbacks import process

    params = get_current_context()["params"]
    return process.drain(
        jobs.open_job(),
        _run_id(),
        batch_size=int(params["batch_size"]),
        max_attempts=int(params["max_attempts"]),
        linger_seconds=float(params["linger_seconds"]),
    )
