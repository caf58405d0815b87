"""Settings every ConnectWise DAG shares, so the DAG files only say what differs."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pendulum

from connectwise.tenants import DEFAULT_TENANT, Tenant, dag_tenants

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


def dag_defaults(
    tenant: Tenant = DEFAULT_TENANT, *, retries: int = 2, retry_seconds: int = 30
) -> dict[str, Any]:
    """Keyword arguments for ``@dag``: start date, no catchup, one run at a time, tags, pool.

    A configured tenant's tasks run in its own pool (``connectwise_api__<tenant>``, sized to
    its request budget by ``pool_slots``) and, when it names one, on its own Celery queue.
    """
    default_args: dict[str, Any] = {
        "retries": retries,
        "retry_delay": timedelta(seconds=retry_seconds),
        "pool": tenant.pool or api_pool(),
    }
    if tenant.queue:
        default_args["queue"] = tenant.queue
    return {
        "start_date": pendulum.datetime(2025, 1, 1, tz="UTC"),
        "catchup": False,
        "max_active_runs": 1,
        "tags": tenant.tags,
        "default_args": default_args,
    }


def for_each_tenant(build: Callable[[Tenant], object]) -> None:
    """Build a DAG file's DAG once per enabled tenant (only its own tenant's in a task process).

    Without a tenants file that is the one default tenant, with the DAG id unchanged.
    """
    for tenant in dag_tenants():
        build(tenant)
