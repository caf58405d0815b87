"""Settings every ConnectWise DAG shares, so the DAG files only say what differs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum


def dag_defaults(*, retries: int = 2, retry_seconds: int = 30) -> dict[str, Any]:
    """Keyword arguments for ``@dag``: start date, no catchup, one run at a time, tags."""
    return {
        "start_date": pendulum.datetime(2025, 1, 1, tz="UTC"),
        "catchup": False,
        "max_active_runs": 1,
        "tags": ["connectwise"],
        "default_args": {"retries": retries, "retry_delay": timedelta(seconds=retry_seconds)},
    }
