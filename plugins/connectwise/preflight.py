"""The setup checklist, each item checked with a real, harmless API read.

Discovery, keys, clientId, the 8 security-role modules and the 23 Table Setup entities of the
Salesbuildr seed. The mapping is checked against the tenant next (``preflight_mapping``).

Every failure comes with the fix the seeds' "common issues" give for it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from connectwise.entities import REGISTRY, Registry
from connectwise.errors import (
    ConnectWiseAuthError,
    ConnectWiseConnectionError,
    ConnectWiseError,
    ConnectWisePermissionError,
)
from connectwise.mapping.references import TABLE_BY_ENDPOINT
from connectwise.responses import module_of

if TYPE_CHECKING:
    from connectwise.hook import ConnectWiseHook
    from connectwise.mapping.references import SetupNames

log = logging.getLogger(__name__)

# One harmless read per security-role module (the seed's Step 1).
MODULE_PROBES: dict[str, str] = {
    "Companies": "company/companies",
    "Finance": "finance/agreements",
    "Marketing": "marketing/groups",
    "Procurement": "procurement/catalog",
    "Project": "project/projects",
    "Sales": "sales/opportunities",
    "Service Desk": "service/boards",
    "System": "system/members",
}

# The seed's Step 2: the 23 Table Setup entities and the endpoint that reads each.
TABLE_SETUP: dict[str, str] = {
    "Address Formats": "company/addressFormats",
    "Company Status": "company/companies/statuses",
    "Company Type": "company/companies/types",
    "Country": "company/countries",
    "Team Role": "company/teamRoles",
    "Payment Type": "expense/paymentTypes",
    "Warehouse Bin": "procurement/warehouseBins",
    "Billing Cycle": "finance/billingCycles",
    "Billing Terms": "finance/billingTerms",
    "Tax Code": "finance/taxCodes",
    "Opportunity Status": "sales/opportunities/statuses",
    "Sales Probability": "sales/probabilities",
    "Sales Stage": "sales/stages",
    "Sales Teams": "sales/teams",
    "Opportunity Type": "sales/opportunities/types",
    "Category": "procurement/categories",
    "Manufacturers": "procurement/manufacturers",
    "Product Type": "procurement/types",
    "Subcategory": "procurement/subcategories",
    "Priority": "service/priorities",
    "Service Board": "service/boards",
    "Severity": "service/severities",
    "SLA": "service/SLAs",
}

MODULE_ADVICE = {
    "Procurement": "Products missing from the catalog come from this: ",
    "Companies": "Companies and contacts need this: ",
    "Sales": "Opportunities need this: ",
    "Finance": "Agreements need this: ",
}


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


def required_endpoints(registry: Registry = REGISTRY) -> set[str]:
    """Endpoints the sync itself reads: their failures stop a sync, the others only warn."""
    return {entity.endpoint for entity in registry}


def run_checklist(
    hook: ConnectWiseHook, registry: Registry = REGISTRY, names: SetupNames | None = None
) -> list[CheckResult]:
    """Run every check; stop after the connection checks if they fail (nothing else can pass).

    With ``names``, a Table Setup entity whose names the mapping checks need is probed by
    reading those names, so :func:`check_mapping` given the same ``names`` does not read it again.
    """
    results = _connection_checks(hook)
    if not all(result.ok for result in results):
        return results
    needed = required_endpoints(registry)
    needed_modules = {module_of(endpoint) for endpoint in needed}
    for module, endpoint in MODULE_PROBES.items():
        results.append(_probe(hook, "module", module, endpoint, module in needed_modules))
    for table, endpoint in TABLE_SETUP.items():
        results.append(_probe(hook, "table", table, endpoint, endpoint in needed, names))
    return results


def _connection_checks(hook: ConnectWiseHook) -> list[CheckResult]:
    site_hint = (
        "Verify the Company identifier and the Hostname format (e.g. na.myconnectwise.net: "
        "hostname only, no https://, no path)."
    )
    try:
        codebase = hook.discover_codebase(refresh=True)  # the check itself: never a remembered one
    except ConnectWiseConnectionError as exc:
        return [
            CheckResult(
                "connection",
                "codebase discovery",
                "login/companyinfo",
                False,
                True,
                str(exc),
                site_hint,
            )
        ]
    results = [
        CheckResult(
            "connection",
            "codebase discovery",
            "login/companyinfo",
            True,
            True,
            f"codebase {codebase}",
        )
    ]
    try:
        hook.get_json("system/info")
    except ConnectWiseAuthError as exc:
        is_client_id = "clientId" in str(exc)
        name = "client id" if is_client_id else "authentication"
        fix = (
            "Register the integration at developer.connectwise.com/ClientID and put the GUID "
            "in the connection's Client ID."
            if is_client_id
            else "Check that the Public and Private keys are correct (System > Members > API "
            "Members > API Keys; the private key is shown only once: make a new key if lost)."
        )
        return [
            *results,
            CheckResult("connection", name, "system/info", False, True, str(exc), fix),
        ]
    except ConnectWisePermissionError:
        pass  # authenticated; the System module is reported with the modules
    except ConnectWiseError as exc:
        return [
            *results,
            CheckResult(
                "connection",
                "authentication",
                "system/info",
                False,
                True,
                str(exc),
                "See the ConnectWise message above.",
            ),
        ]
    results.append(
        CheckResult("connection", "authentication", "system/info", True, True, "keys accepted")
    )
    results.append(
        CheckResult("connection", "client id", "system/info", True, True, "clientId accepted")
    )
    return results


def _probe(
    hook: ConnectWiseHook,
    kind: str,
    name: str,
    endpoint: str,
    required: bool,
    names: SetupNames | None = None,
) -> CheckResult:
    named_table = TABLE_BY_ENDPOINT.get(endpoint) if names is not None else None
    try:
        if names is not None and named_table is not None:
            names.of(named_table)  # a setup table is small: its names cost one request too
        else:
            hook.get_json(endpoint, params={"pageSize": 1, "fields": "id"})
    except ConnectWisePermissionError as exc:
        return CheckResult(kind, name, endpoint, False, required, _said(exc), _fix(kind, name))
    except ConnectWiseError as exc:
        return CheckResult(
            kind,
            name,
            endpoint,
            False,
            required,
            _said(exc),
            "Unexpected answer; see the message and the ConnectWise logs.",
        )
    return CheckResult(kind, name, endpoint, True, required, f"GET {endpoint} readable")


def _fix(kind: str, name: str) -> str:
    if kind == "module":
        return (
            f"{MODULE_ADVICE.get(name, '')}give the API member's security role read access to "
            f"the '{name}' module (System > Security Roles > your integration role), then "
            "rerun."
        )
    return (
        f"Make '{name}' visible: System > Table Setup > Customize, tick '{name}' (one of the "
        "23 entities the integration reads), Save."
    )


def _said(exc: Exception) -> str:
    text = str(exc)
    marker = "ConnectWise said: "
    return (
        text[text.index(marker) + len(marker) :].split(" Give the role")[0]
        if marker in text
        else text
    )


def format_checklist(results: list[CheckResult]) -> str:
    """Render the checklist for the task log."""
    failed = [result for result in results if not result.ok]
    header = (
        "ConnectWise preflight: every check passed"
        if not failed
        else f"ConnectWise preflight: {len(failed)} of {len(results)} checks failed"
    )
    return "\n".join([header, *(result.line for result in results)])
