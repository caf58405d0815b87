"""Settings every ConnectWise DAG shares, so the DAG files only say what differs."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pendulum

POOL_ENV = "CONNECTWISE_API_POOL"
API_POOL = "connectwise_api"


def api_pool() -> str:
    """Return the pool every task runs in: ``$CONNECTWISE_API_POOL``, else ``connectwise_api``.

    The pool keeps a bounded number of ConnectWise calls in flight across all DAGs; it is
    created (4 slots) by ``scripts/apply_settings.py airflow_settings.yaml``, the demo and the
    cluster script. A task in a pool that does not exist is never scheduled, so the variable
    can name another one (``default_pool`` included).
    """
    return os.environ.get(POOL_ENV, "").strip() or API_POOL


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
