"""Settings every ConnectWise DAG shares, so the DAG files only say what differs."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pendulum

POOL_ENV = "CONNECTWISE_API_POOL"


def api_pool() -> str:
    """Return the pool every task runs in: ``$CONNECTWISE_API_POOL``, else ``default_pool``.

    Deployments set it to ``connectwise_api`` (created by airflow_settings.yaml, 4 slots) so
    that all DAGs together keep a bounded number of ConnectWise calls in flight. It is opt-in
    because a task in a pool that does not exist is never scheduled.
    """
    return os.environ.get(POOL_ENV, "").strip() or "default_pool"


def dag_defaults(*, retries: int = 2, retry_seconds: int = 30) -> dict[str, Any]:
    """Keyword arguments for ``@dag``: start date, no catchup, one run at a time, tags, pool."""
    return {
        "start_date": pendulum.datetime(2025, 1, 1, tz="UTC"),
        "catchup": False,
        "max_active_runs": 1,
        "tags": ["connectwise"],
        "default_args": {
            "retries": retries,
            "retry_delay": timedelta(seconds=retry_seconds),
            "pool": api_pool(),
        },
    }
