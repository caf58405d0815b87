"""The ordered connection checks, shared by Airflow's Test button and the preflight.

In the seeds' order of causes, stopping at the first failure: site settings → company id
(codebase discovery) → keys → clientId; then one harmless read per security-role module, whose
refusals are collected rather than stopped at. Causes are told apart by the exception's type
(:mod:`connectwise.client.policy`), never by its text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from connectwise import endpoints
from connectwise.client.policy import CLIENT_ID_REFUSED, module_of
from connectwise.entities import REGISTRY, Registry
from connectwise.errors import (
    ConnectWiseAuthError,
    ConnectWiseClientIdError,
    ConnectWiseConnectionError,
    ConnectWiseError,
    ConnectWisePermissionError,
)

SITE_FIX = (
    "Verify the Company identifier and the Hostname format (e.g. na.myconnectwise.net: "
    "hostname only, no https://, no path)."
)
UNEXPECTED = "Unexpected answer; see the message and the ConnectWise logs."
KEYS_FIX = (
    "Check that the Public and Private keys are correct (System > Members > API Members > API "
    "Keys; the private key is shown only once: make a new key if lost)."
)


class ApiClient(Protocol):
    """What the checks need of a client (the hook, or a stand-in in tests)."""

    @property
    def site(self) -> Any:
        """The validated tenant settings; raises ConnectWiseConnectionError if invalid."""

    def discover_codebase(self, *, refresh: bool = False) -> str:
        """Return the tenant's codebase."""

    def get_json(self, endpoint: str, params: dict[str, Any] | None = None) -> Any:
        """GET an endpoint and return its decoded body."""


@dataclass(frozen=True)
class CheckResult:
    """One line of the checklist."""

    kind: str  # connection, module, table; coverage (preflight_mapping)
    name: str
    endpoint: str
    ok: bool
    required: bool
    detail: str
    fix: str = ""

    @property
    def line(self) -> str:
        """The checklist line: mark, name, outcome and fix."""
        mark = "OK  " if self.ok else ("FAIL" if self.required else "WARN")
        text = f"[{mark}] {self.kind:<10} {self.name:<20} {self.detail}"
        return f"{text}\n       fix: {self.fix}" if self.fix and not self.ok else text


def connection_checks(client: ApiClient) -> list[CheckResult]:
    """Check site settings, company id, keys and clientId in order; stop at the first failure."""
    try:
        client.site  # noqa: B018 - reading it validates the connection's fields
    except ConnectWiseConnectionError as exc:
        return [_connection("site settings", "", False, str(exc), SITE_FIX)]
    try:
        codebase = client.discover_codebase(refresh=True)  # the check: never a remembered one
    except ConnectWiseConnectionError as exc:
        return [_connection("codebase discovery", "login/companyinfo", False, str(exc), SITE_FIX)]
    results = [_connection("codebase discovery", "login/companyinfo", True, f"codebase {codebase}")]
    info_endpoint = endpoints.SYSTEM_INFO
    try:
        info = client.get_json(info_endpoint)
    except ConnectWiseClientIdError as exc:
        fix = CLIENT_ID_REFUSED.fix
        return [*results, _connection("client id", info_endpoint, False, str(exc), fix)]
    except ConnectWiseAuthError as exc:
        return [*results, _connection("authentication", info_endpoint, False, str(exc), KEYS_FIX)]
    except ConnectWisePermissionError:
        info = None  # authenticated; the System module is reported with the modules
    except ConnectWiseError as exc:
        fix = "See the ConnectWise message above."
        return [*results, _connection("authentication", info_endpoint, False, str(exc), fix)]
    version = info.get("version") if isinstance(info, dict) else None
    accepted = f"keys accepted, version {version}" if version else "keys accepted"
    return [
        *results,
        _connection("authentication", endpoints.SYSTEM_INFO, True, accepted),
        _connection("client id", endpoints.SYSTEM_INFO, True, "clientId accepted"),
    ]


def module_probes(registry: Registry = REGISTRY) -> dict[str, str]:
    """One endpoint the sync reads per security-role module: module → endpoint."""
    probes: dict[str, str] = {}
    for entity in registry:
        probes.setdefault(module_of(entity.endpoint), entity.endpoint)
    return probes


def module_check(
    client: ApiClient, module: str, endpoint: str, *, required: bool, fix: str
) -> CheckResult:
    """Read one record of ``endpoint`` to learn whether the security role allows ``module``."""
    try:
        client.get_json(endpoint, params={"pageSize": 1, "fields": "id"})
    except ConnectWisePermissionError as exc:
        return CheckResult("module", module, endpoint, False, required, said(exc), fix)
    except ConnectWiseError as exc:
        return CheckResult("module", module, endpoint, False, required, said(exc), UNEXPECTED)
    return CheckResult("module", module, endpoint, True, required, f"GET {endpoint} readable")


def diagnose_connection(client: ApiClient, registry: Registry = REGISTRY) -> tuple[bool, str]:
    """Return (ok, message) for Airflow's Test button: the first failing cause, or success."""
    results = connection_checks(client)
    failed = next((result for result in results if not result.ok), None)
    if failed is not None:
        return False, f"{_CAUSE[failed.name]}: {failed.detail}"
    modules = [
        module_check(client, module, endpoint, required=True, fix="")
        for module, endpoint in module_probes(registry).items()
    ]
    return _summary(client, results, modules)


_CAUSE: Mapping[str, str] = {
    "site settings": "Site/connection settings",
    "codebase discovery": "Company id / site",
    "authentication": "Public/private keys",
    "client id": "Client ID",
}


def _summary(
    client: ApiClient, connection: list[CheckResult], modules: list[CheckResult]
) -> tuple[bool, str]:
    site = client.site
    failed = [result for result in modules if not result.ok]
    unexpected = next((result for result in failed if result.fix == UNEXPECTED), None)
    if unexpected is not None:
        return False, f"ConnectWise API ({unexpected.endpoint}): {unexpected.detail}"
    if failed:
        denied = ", ".join(f"{result.name} ({result.endpoint})" for result in failed)
        return False, (
            f"Security role: the API member of company {site.company_id!r} cannot read "
            f"{denied}. Give its security role inquire level 'All' on those modules "
            "(System > Security Roles) and run connectwise_preflight for the full checklist."
        )
    passed = "; ".join(result.detail for result in connection)
    return True, (
        f"Connected to company {site.company_id!r} on {site.api_host} ({passed}); every module "
        "the sync reads is allowed."
    )


def said(exc: ConnectWiseError) -> str:
    """Return ConnectWise's own words from one of our exceptions, else the whole message."""
    return exc.api_message or str(exc)


def _connection(name: str, endpoint: str, ok: bool, detail: str, fix: str = "") -> CheckResult:
    return CheckResult("connection", name, endpoint, ok, True, detail, fix)
