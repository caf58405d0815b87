"""Say which part of a ConnectWise connection is wrong, in the seeds' order of causes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectwise.entities import REGISTRY, Registry
from connectwise.errors import (
    ConnectWiseAuthError,
    ConnectWiseConnectionError,
    ConnectWiseError,
    ConnectWisePermissionError,
)
from connectwise.responses import module_of

if TYPE_CHECKING:
    from connectwise.hook import ConnectWiseHook


def probe_endpoints(registry: Registry = REGISTRY) -> dict[str, str]:
    """One endpoint the sync reads per security-role module: module → endpoint."""
    probes: dict[str, str] = {}
    for entity in registry:
        probes.setdefault(module_of(entity.endpoint), entity.endpoint)
    return probes


def diagnose_connection(hook: ConnectWiseHook) -> tuple[bool, str]:
    """Return (ok, message) for Airflow's "Test" button and the preflight task.

    Checks, stopping at the first failure: site format → company id (codebase discovery) →
    keys (401) → clientId → every module the sync reads (403s are collected, not stopped at).
    """
    try:
        site = hook.site
    except ConnectWiseConnectionError as exc:
        return False, f"Site/connection settings: {exc}"
    try:
        codebase = hook.discover_codebase()
    except ConnectWiseConnectionError as exc:
        return False, f"Company id / site: {exc}"
    try:
        info = hook.get_json("system/info")
    except ConnectWisePermissionError:
        info = None  # authenticated; the System module is reported with the others below
    except ConnectWiseAuthError as exc:
        cause = "Client ID" if "clientId" in str(exc) else "Public/private keys"
        return False, f"{cause}: {exc}"
    except ConnectWiseError as exc:
        return False, f"ConnectWise API: {exc}"
    denied = []
    for module, endpoint in probe_endpoints().items():
        try:
            hook.count(endpoint)
        except ConnectWisePermissionError:
            denied.append(f"{module} ({endpoint})")
        except ConnectWiseError as exc:
            return False, f"ConnectWise API ({endpoint}): {exc}"
    if denied:
        return False, (
            f"Security role: the API member of company {site.company_id!r} cannot read "
            f"{', '.join(denied)}. Give its security role inquire level 'All' on those modules "
            "(System > Security Roles) and run connectwise_preflight for the full checklist."
        )
    version = info.get("version") if isinstance(info, dict) else None
    return True, (
        f"Connected to company {site.company_id!r} on {site.api_host} (codebase {codebase}"
        f"{', version ' + str(version) if version else ''}); every module the sync reads is "
        "allowed."
    )
