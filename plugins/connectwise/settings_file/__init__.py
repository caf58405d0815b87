"""Validate an ``airflow_settings.yaml`` (Astro CLI format) and apply it with Airflow's CLI."""

from connectwise.settings_file.convert import (
    ImportStep,
    connections_document,
    mask_text,
    masked_document,
    plan_imports,
    pools_document,
    secret_values,
    variables_document,
)
from connectwise.settings_file.parse import (
    AirflowSettings,
    ConnectionSpec,
    PoolSpec,
    SettingsFileError,
    VariableSpec,
    load_settings_file,
    parse_settings,
)

__all__ = [
    "AirflowSettings",
    "ConnectionSpec",
    "ImportStep",
    "PoolSpec",
    "SettingsFileError",
    "VariableSpec",
    "connections_document",
    "load_settings_file",
    "mask_text",
    "masked_document",
    "parse_settings",
    "plan_imports",
    "pools_document",
    "secret_values",
    "variables_document",
]
