"""Celery settings for Airflow's CeleryExecutor: Airflow's defaults plus warm task imports.

Set ``[celery] celery_config_options = connectwise.celery_config.CELERY_CONFIG``. A Celery
worker imports the modules named in ``imports`` once, in its main process, before it forks
its pool; every task process forked from the pool then inherits pandas, Great Expectations
and the sync engine (``connectwise.warm``) instead of importing them again (about 3 s each).
The scheduler, which only publishes tasks, never imports them.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

WARM_MODULES = ("connectwise.warm",)

CELERY_CONFIG: dict[str, Any] = {
    **DEFAULT_CELERY_CONFIG,
    "imports": (*DEFAULT_CELERY_CONFIG.get("imports", ()), *WARM_MODULES),
}
