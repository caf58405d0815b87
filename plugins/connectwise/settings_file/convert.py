"""Turn validated settings into the JSON of the stock ``airflow ... import`` commands.

Also masks them for display: passwords, sensitive extras and passwords inside URLs.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from typing import Any

from connectwise.settings_file.parse import (
    INTERVAL_VARIABLE,
    MASK,
    SENSITIVE_NAMES,
    AirflowSettings,
    ImportStep,
)
from connectwise.tenants import Tenant, configured_tenants

URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)([^@\s]+)(@)")
# Shown beside the Variable in Admin > Variables, where operators change it.
VARIABLE_DESCRIPTIONS = {
    INTERVAL_VARIABLE: (
        "How often connectwise_incremental_sync runs: 5m, 15m, 30m, 1h, 4h or 1d. Takes effect "
        "when the dag-processor next parses the DAG (within 30 s by default); an environment "
        "variable AIRFLOW_VAR_CONNECTWISE_SYNC_INTERVAL overrides it."
    ),
}


def plan_imports(
    settings: AirflowSettings, tenants: Sequence[Tenant] | None = None
) -> list[ImportStep]:
    """Return the import commands for the non-empty sections, in the order to run them.

    Connections and pools are replaced by the file's; a Variable that already exists is kept,
    so a value an operator set in the UI survives the next apply (compose's airflow-init applies
    the file on every start): the file only gives a Variable its first value. Each tenant of
    ``tenants`` (by default the tenants file's, if there is one) gets its own pool.

    Raises:
        TenantsFileError: the tenants file is invalid.
    """
    if tenants is None:
        tenants = configured_tenants() or []
    connections = ("connections", "import", "--overwrite")
    variables = ("variables", "import", "-a", "skip")
    steps = [
        ImportStep("connections", "connections.json", connections, connections_document(settings),
                   ("Could not import connection",)),
        ImportStep("pools", "pools.json", ("pools", "import"), pools_document(settings, tenants)),
        ImportStep("variables", "variables.json", variables, variables_document(settings),
                   ("failed to be updated",)),
    ]  # fmt: skip
    return [step for step in steps if step.document]


def connections_document(settings: AirflowSettings) -> dict[str, dict[str, Any]]:
    """Return ``airflow connections import`` JSON: ``{conn_id: {conn_type, host, ..., extra}}``.

    ``extra`` is a JSON string, as Airflow stores it; empty fields are left out.
    """
    document: dict[str, dict[str, Any]] = {}
    for spec in settings.connections:
        fields = {
            "conn_type": spec.conn_type,
            "host": spec.conn_host,
            "schema": spec.conn_schema,
            "login": spec.conn_login,
            "password": spec.conn_password.get_secret_value() if spec.conn_password else None,
            "port": spec.conn_port,
            "extra": json.dumps(spec.conn_extra) if spec.conn_extra else None,
        }
        document[spec.conn_id] = {key: value for key, value in fields.items() if value is not None}
    return document


def pools_document(
    settings: AirflowSettings, tenants: Sequence[Tenant] = ()
) -> dict[str, dict[str, Any]]:
    """Return ``airflow pools import`` JSON: ``{name: {slots, description, include_deferred}}``.

    A tenant's pool (``connectwise_api__<tenant>``, ``pool_slots`` of the tenants file) bounds
    that tenant's ConnectWise calls alone: ConnectWise throttles each tenant on its own.
    """
    document = {
        spec.pool_name: {
            "slots": spec.pool_slot,
            "description": spec.pool_description or "",
            "include_deferred": False,
        }
        for spec in settings.pools
    }
    for tenant in tenants:
        if tenant.pool:
            document[tenant.pool] = {
                "slots": tenant.pool_slots,
                "description": f"ConnectWise API calls of tenant {tenant.id} (tenants file)",
                "include_deferred": False,
            }
    return document


def variables_document(settings: AirflowSettings) -> dict[str, Any]:
    """Return ``airflow variables import`` JSON: ``{name: value}`` (values as text).

    A Variable of this project gets ``{"value": ..., "description": ...}`` instead, which the
    import also reads, so the UI says what it does and which values it takes.
    """
    document: dict[str, Any] = {}
    for spec in settings.variables:
        description = VARIABLE_DESCRIPTIONS.get(spec.variable_name)
        value = spec.variable_value
        document[spec.variable_name] = (
            {"value": value, "description": description} if description else value
        )
    return document


def is_sensitive(name: str) -> bool:
    """Tell whether Airflow would mask a Variable or extra key called ``name``."""
    configured = os.environ.get("AIRFLOW__CORE__SENSITIVE_VAR_CONN_NAMES", "").lower().split(",")
    names = SENSITIVE_NAMES | {part.strip() for part in configured if part.strip()}
    normalized = re.sub(r"\W+", "_", name.strip().lower())
    return any(part in normalized for part in names)


def masked_document(step: ImportStep, secrets: set[str] | None = None) -> dict[str, Any]:
    """Return ``step.document`` with passwords, sensitive values and URL passwords as ``***``.

    What was hidden is added to ``secrets`` when given.
    """
    hidden: set[str] = set() if secrets is None else secrets
    if step.section == "variables":
        return {name: _mask_variable(name, value, hidden) for name, value in step.document.items()}
    if step.section != "connections":
        return {name: _mask(name, value, hidden) for name, value in step.document.items()}
    masked = {}
    for conn_id, fields in step.document.items():
        masked[conn_id] = {key: _mask(key, value, hidden) for key, value in fields.items()}
        if "extra" in fields:
            extra = _mask("extra", json.loads(fields["extra"]), hidden)
            masked[conn_id]["extra"] = json.dumps(extra)
    return masked


def secret_values(settings: AirflowSettings) -> set[str]:
    """Return every secret string in ``settings``, to hide in command output."""
    secrets: set[str] = set()
    for step in plan_imports(settings):
        masked_document(step, secrets)
    return secrets


def mask_text(text: str, secrets: set[str]) -> str:
    """Replace each of ``secrets`` and any password inside a URL in ``text`` with ``***``."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return URL_PASSWORD.sub(rf"\g<1>{MASK}\g<3>", text)


def _mask_variable(name: str, value: Any, secrets: set[str]) -> Any:
    if isinstance(value, dict):  # {"value": ..., "description": ...}: the name decides
        return {**value, "value": _mask(name, value["value"], secrets)}
    return _mask(name, value, secrets)


def _mask(name: str, value: Any, secrets: set[str]) -> Any:
    if isinstance(value, dict):
        return {key: _mask(str(key), item, secrets) for key, item in value.items()}
    if value is None or value == "" or isinstance(value, bool):
        return value
    if is_sensitive(name):
        secrets.add(str(value))
        return MASK
    if isinstance(value, str):
        secrets.update(match.group(2) for match in URL_PASSWORD.finditer(value))
        return mask_text(value, set())
    return value
