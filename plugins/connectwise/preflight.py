"""The setup checklist, each item checked with a real, harmless API read.

Discovery, keys, clientId, the 8 security-role modules and the 23 Table Setup entities of the
Salesbuildr seed. The mapping is checked against the tenant next (``preflight_mapping``).

Every failure comes with the fix the seeds' "common issues" give for it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from connectwise import endpoints
from connectwise.client.checklist import (
    UNEXPECTED,
    CheckResult,
    connection_checks,
    module_check,
    said,
)
from connectwise.client.policy import module_of
from connectwise.entities import REGISTRY, Registry
from connectwise.errors import ConnectWiseError, ConnectWisePermissionError
from connectwise.mapping.references import TABLE_BY_ENDPOINT

if TYPE_CHECKING:
    from connectwise.client.hook import ConnectWiseHook
    from connectwise.mapping.references import SetupNames

log = logging.getLogger(__name__)

# One harmless read per security-role module (the seed's Step 1).
MODULE_PROBES: dict[str, str] = {
    "Companies": endpoints.COMPANIES,
    "Finance": endpoints.AGREEMENTS,
    "Marketing": endpoints.MARKETING_GROUPS,
    "Procurement": endpoints.CATALOG,
    "Project": endpoints.PROJECTS,
    "Sales": endpoints.OPPORTUNITIES,
    "Service Desk": endpoints.SERVICE_BOARDS,
    "System": endpoints.MEMBERS,
}

# The seed's Step 2: the 23 Table Setup entities and the endpoint that reads each.
TABLE_SETUP: dict[str, str] = {
    "Address Formats": endpoints.ADDRESS_FORMATS,
    "Company Status": endpoints.COMPANY_STATUSES,
    "Company Type": endpoints.COMPANY_TYPES,
    "Country": endpoints.COUNTRIES,
    "Team Role": endpoints.TEAM_ROLES,
    "Payment Type": endpoints.PAYMENT_TYPES,
    "Warehouse Bin": endpoints.WAREHOUSE_BINS,
    "Billing Cycle": endpoints.BILLING_CYCLES,
    "Billing Terms": endpoints.BILLING_TERMS,
    "Tax Code": endpoints.TAX_CODES,
    "Opportunity Status": endpoints.OPPORTUNITY_STATUSES,
    "Sales Probability": endpoints.SALES_PROBABILITIES,
    "Sales Stage": endpoints.SALES_STAGES,
    "Sales Teams": endpoints.SALES_TEAMS,
    "Opportunity Type": endpoints.OPPORTUNITY_TYPES,
    "Category": endpoints.CATEGORIES,
    "Manufacturers": endpoints.MANUFACTURERS,
    "Product Type": endpoints.PRODUCT_TYPES,
    "Subcategory": endpoints.SUBCATEGORIES,
    "Priority": endpoints.SERVICE_PRIORITIES,
    "Service Board": endpoints.SERVICE_BOARDS,
    "Severity": endpoints.SERVICE_SEVERITIES,
    "SLA": endpoints.SERVICE_SLAS,
}

MODULE_ADVICE = {
    "Procurement": "Products missing from the catalog come from this: ",
    "Companies": "Companies and contacts need this: ",
    "Sales": "Opportunities need this: ",
    "Finance": "Agreements need this: ",
}


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
    results = connection_checks(hook)
    if not all(result.ok for result in results):
        return results
    needed = required_endpoints(registry)
    needed_modules = {module_of(endpoint) for endpoint in needed}
    for module, endpoint in MODULE_PROBES.items():
        fix = _fix("module", module)
        results.append(
            module_check(hook, module, endpoint, required=module in needed_modules, fix=fix)
        )
    for table, endpoint in TABLE_SETUP.items():
        results.append(_table_check(hook, table, endpoint, endpoint in needed, names))
    return results


def _table_check(
    hook: ConnectWiseHook, table: str, endpoint: str, required: bool, names: SetupNames | None
) -> CheckResult:
    named_table = TABLE_BY_ENDPOINT.get(endpoint) if names is not None else None
    try:
        if names is not None and named_table is not None:
            names.of(named_table)  # a setup table is small: its names cost one request too
        else:
            hook.get_json(endpoint, params={"pageSize": 1, "fields": "id"})
    except ConnectWisePermissionError as exc:
        return CheckResult(
            "table", table, endpoint, False, required, said(exc), _fix("table", table)
        )
    except ConnectWiseError as exc:
        return CheckResult("table", table, endpoint, False, required, said(exc), UNEXPECTED)
    return CheckResult("table", table, endpoint, True, required, f"GET {endpoint} readable")


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


def format_checklist(results: list[CheckResult]) -> str:
    """Render the checklist for the task log."""
    failed = [result for result in results if not result.ok]
    header = (
        "ConnectWise preflight: every check passed"
        if not failed
        else f"ConnectWise preflight: {len(failed)} of {len(results)} checks failed"
    )
    return "\n".join([header, *(result.line for result in results)])
