"""The incremental sync's schedule, decided each time the DAG file is parsed.

The Airflow Variable ``connectwise_sync_interval`` wins, as Airflow resolves Variables: a
secrets backend, then the environment variable ``AIRFLOW_VAR_CONNECTWISE_SYNC_INTERVAL``, then
the metadata database (the value the UI, the REST API and ``airflow variables set`` edit).
Without it, ``settings.sync_interval`` of the mapping file; without that, 15m. Every value is
validated: a bad one is a DAG import error that says where it came from and what is allowed.

The dag-processor parses each file in a child process that asks its parent for Variables, so a
Variable stored in the database is read there (one small query per parse) and a changed value
becomes the schedule at the next parse. A process that parses DAG files on its own, without a
dag-processor or a task supervisor around it (a plain ``DagBag()``, ``airflow dags test``), sees
only secrets backends and environment variables: there the mapping's setting applies unless
``AIRFLOW_VAR_CONNECTWISE_SYNC_INTERVAL`` is set.
"""

from __future__ import annotations

import logging
from pathlib import Path

import yaml

from connectwise.errors import ConnectWiseConfigError
from connectwise.mapping.load import default_mapping_path
from connectwise.mapping.models import SYNC_INTERVAL_SCHEDULES
from connectwise.tenants import DEFAULT_TENANT, Tenant
from connectwise.yaml_load import safe_load

INTERVAL_VARIABLE = "connectwise_sync_interval"
DEFAULT_INTERVAL = "15m"

log = logging.getLogger(__name__)


def sync_interval(mapping_path: Path | None = None) -> str:
    """Return the configured interval (``5m`` ... ``1d``).

    Raises:
        ConnectWiseConfigError: the Variable or the mapping's setting is not an allowed value.
    """
    configured = read_interval_variable()
    if configured is not None:
        return _checked(configured, f"Variable {INTERVAL_VARIABLE}")
    return _mapping_interval(mapping_path or default_mapping_path())


def _mapping_interval(path: Path) -> str:
    try:
        document = safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConnectWiseConfigError(
            f"{path}: cannot read settings.sync_interval ({exc})."
        ) from None
    settings = document.get("settings") if isinstance(document, dict) else None
    value = (settings or {}).get("sync_interval") or DEFAULT_INTERVAL
    return _checked(str(value), f"{path}: settings.sync_interval")


def read_interval_variable() -> str | None:
    """Return the Variable's value from Airflow (secrets backends, environment, database)."""
    from airflow.sdk import Variable

    value = Variable.get(INTERVAL_VARIABLE, default=None)
    if value is None and not _is_supervised():
        value = _stored_variable()
    return None if value is None else str(value)


def incremental_schedule(mapping_path: Path | None = None, tenant: Tenant = DEFAULT_TENANT) -> str:
    """Return the cron expression of the configured interval.

    A configured tenant's interval is its ``sync_interval`` in the tenants file, else its
    mapping's setting; the Variable is the single-tenant deployment's.
    """
    if tenant.id is None:
        return SYNC_INTERVAL_SCHEDULES[sync_interval(mapping_path)]
    if tenant.sync_interval:
        return SYNC_INTERVAL_SCHEDULES[tenant.sync_interval]
    mapping = Path(tenant.mapping_file) if tenant.mapping_file else default_mapping_path()
    try:
        return SYNC_INTERVAL_SCHEDULES[_mapping_interval(mapping)]
    except ConnectWiseConfigError as exc:
        # One tenant's broken mapping must not take every tenant's DAG file down with it: its
        # own tasks fail with the mapping's error; its schedule falls back to the default.
        log.warning("Tenant %s: %s; its schedule is %s", tenant.label, exc, DEFAULT_INTERVAL)
        return SYNC_INTERVAL_SCHEDULES[DEFAULT_INTERVAL]


def _is_supervised() -> bool:
    """Tell whether a dag-processor or task supervisor answers this process's Variable reads."""
    from airflow.sdk.execution_time import task_runner

    return getattr(task_runner, "SUPERVISOR_COMMS", None) is not None


def _stored_variable() -> str | None:
    """Read the Variable from the metadata database, as the dag-processor would have.

    Outside a supervisor the Task SDK consults only secrets backends and the environment, so
    without this ``airflow dags reserialize`` would store the mapping's interval until the
    dag-processor parses the file again. A database that cannot be read (a test's Airflow home
    without tables) leaves the mapping's setting in force, with a warning.
    """
    from airflow.models.variable import Variable as StoredVariable
    from airflow.utils.session import create_session
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    query = select(StoredVariable).where(StoredVariable.key == INTERVAL_VARIABLE)
    try:
        with create_session() as session:
            stored = session.scalar(query)
            return None if stored is None else stored.val
    except (SQLAlchemyError, RuntimeError) as exc:  # RuntimeError: no database configured
        log.warning(
            "Cannot read Variable %s from the metadata database (%s); "
            "the mapping's settings.sync_interval applies.",
            INTERVAL_VARIABLE,
            type(exc).__name__,
        )
        return None


def _checked(value: str, source: str) -> str:
    interval = value.strip()
    if interval not in SYNC_INTERVAL_SCHEDULES:
        allowed = ", ".join(SYNC_INTERVAL_SCHEDULES)
        raise ConnectWiseConfigError(
            f"{source} is {value!r}, which is not an interval; use one of: {allowed} "
            "(edit it under Admin > Variables, or with `airflow variables set`)."
            if source.startswith("Variable")
            else f"{source}: {value!r} is not allowed (use one of: {allowed})."
        )
    return interval
