"""The incremental sync's schedule, read cheaply when the DAG file is parsed.

An Airflow Variable given as the environment variable ``AIRFLOW_VAR_CONNECTWISE_SYNC_INTERVAL``
wins; otherwise ``settings.sync_interval`` of the mapping file. Both are validated: a bad value
is a DAG import error that says what is allowed. (A Variable stored only in the metadata
database is not read at parse time: that would cost a database round trip on every parse and
give tests a different answer.)
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from connectwise.errors import ConnectWiseConfigError
from connectwise.mapping.load import default_mapping_path
from connectwise.mapping.models import SYNC_INTERVAL_SCHEDULES

INTERVAL_VARIABLE = "AIRFLOW_VAR_CONNECTWISE_SYNC_INTERVAL"
DEFAULT_INTERVAL = "15m"


def sync_interval(mapping_path: Path | None = None) -> str:
    """Return the configured interval (``5m`` ... ``1d``).

    Raises:
        ConnectWiseConfigError: the Variable or the mapping's setting is not an allowed value.
    """
    allowed = ", ".join(SYNC_INTERVAL_SCHEDULES)
    configured = os.environ.get(INTERVAL_VARIABLE)
    if configured is not None:
        value = configured.strip()
        if value not in SYNC_INTERVAL_SCHEDULES:
            raise ConnectWiseConfigError(
                f"Variable connectwise_sync_interval is {configured!r}; use one of: {allowed}."
            )
        return value
    path = mapping_path or default_mapping_path()
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConnectWiseConfigError(
            f"{path}: cannot read settings.sync_interval ({exc})."
        ) from None
    settings = document.get("settings") if isinstance(document, dict) else None
    value = str((settings or {}).get("sync_interval") or DEFAULT_INTERVAL)
    if value not in SYNC_INTERVAL_SCHEDULES:
        raise ConnectWiseConfigError(
            f"{path}: settings.sync_interval: {value!r} is not allowed (use one of: {allowed})."
        )
    return value


def incremental_schedule(mapping_path: Path | None = None) -> str:
    """Return the cron expression of the configured interval."""
    return SYNC_INTERVAL_SCHEDULES[sync_interval(mapping_path)]
