"""Airflow tasks: thin wrappers that run a job and translate errors for Airflow.

A configuration error (bad connection, mapping, permissions) becomes ``AirflowFailException``
so Airflow does not retry what cannot succeed; transient errors propagate and are retried.

Jobs are imported inside the tasks: the DAG processor parses DAG files often, and pandas and
Great Expectations cost seconds to import.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from airflow.sdk import get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from connectwise.errors import ConnectWiseConfigError

T = TypeVar("T")


def _fail_fast(function: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return function(*args, **kwargs)
        except ConnectWiseConfigError as exc:
            raise AirflowFailException(str(exc)) from None

    return wrapper


def _run_id() -> str:
    return str(get_current_context()["dag_run"].run_id)


@task(task_id="preflight")
@_fail_fast
def preflight() -> dict[str, Any]:
    """Check mapping, connection, modules and the mapping's names before any sync."""
    from connectwise import jobs

    return jobs.run_preflight(jobs.open_job())


@task
@_fail_fast
def sync_entity(entity_name: str, mode: str = "full") -> dict[str, Any]:
    """Sync one entity of the registry into its staging table."""
    from connectwise import jobs

    return jobs.run_sync(jobs.open_job(), entity_name, mode=mode, run_id=_run_id())


@task(task_id="check_integrity", trigger_rule="none_failed")
@_fail_fast
def check_integrity() -> list[dict[str, Any]]:
    """Count staged rows whose references point at nothing staged."""
    from connectwise import jobs

    return jobs.run_integrity_check(jobs.open_job(), _run_id())


@task(task_id="summarize", trigger_rule="none_failed")
@_fail_fast
def summarize() -> list[dict[str, Any]]:
    """Log per-entity row counts of the staging tables."""
    from connectwise import jobs

    return jobs.run_summary(jobs.open_job())
