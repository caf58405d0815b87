"""Computed documents: system info, security settings and the opportunity forecast."""

from __future__ import annotations

from typing import Any

from simulator.settings import MODULES

Record = dict[str, Any]
VERSION_CODE = "v2025.1"
VERSION_NUMBER = "v4.6.110934"
API_VERSION = "2025.1"
# Module functions listed by the security settings endpoints (a representative subset).
MODULE_FUNCTIONS: dict[str, tuple[str, ...]] = {
    "Companies": ("Company Maintenance", "Contacts", "Table Setup"),
    "Finance": ("Agreements", "Billing Setup", "Expense Setup"),
    "Marketing": ("Groups", "Campaigns"),
    "Procurement": ("Product Catalog", "Procurement Setup"),
    "Project": ("Project Headers",),
    "Sales": ("Opportunities", "Sales Activities", "Sales Setup"),
    "Service Desk": ("Service Tickets", "Service Setup"),
    "System": ("API Reports", "Member Maintenance", "Table Setup", "Callbacks"),
}


def company_info(company_id: str, codebase: str) -> Record:
    """Return ``/login/companyinfo/{company}`` (facts §1; ``IsCloud`` as a bool, like DJCW)."""
    return {
        "CompanyName": "Acme IT Solutions" if company_id.lower() == "acme" else company_id,
        "Codebase": codebase, "VersionCode": VERSION_CODE, "VersionNumber": VERSION_NUMBER,
        "CompanyID": company_id, "IsCloud": True,
    }


def system_info() -> Record:
    """Return ``GET /system/info`` (PYCW ``Info``, facts §7.15)."""
    return {
        "version": f"{VERSION_CODE}.110934", "isCloud": True,
        "serverTimeZone": "Eastern Standard Time", "cloudRegion": "NA",
        "licenseBits": [{"name": name, "activeFlag": True}
                        for name in ("Service", "Sales", "Project", "Procurement")],
    }


def security_settings(denied: list[str], member: Record | None = None) -> list[Record]:
    """Return SecurityRoleSetting rows; denied modules get level ``None`` everywhere."""
    denied_lower = {d.lower() for d in denied}
    rows, row_id = [], 1
    for module in MODULES:
        level = "None" if module.lower() in denied_lower else "All"
        for function in MODULE_FUNCTIONS[module]:
            row: Record = {
                "id": row_id, "moduleIdentifier": module.replace(" ", "")[:8].upper(),
                "moduleName": module, "moduleFunctionIdentifier": function.replace(" ", ""),
                "moduleFunctionName": function, "addLevel": level, "editLevel": level,
                "deleteLevel": level, "inquireLevel": level, "myAllFlag": True,
                "reportFlag": level != "None", "restrictFlag": False, "customFlag": False,
                "sortOrder": row_id,
            }
            if member is not None:
                row["member"] = member
            rows.append(row)
            row_id += 1
    return rows


def _revenue(items: list[Record]) -> Record:
    revenue = round(sum(i["revenue"] or 0.0 for i in items), 2)
    cost = round(sum(i["cost"] or 0.0 for i in items), 2)
    margin = round(revenue - cost, 2)
    return {"revenue": revenue, "cost": cost, "margin": margin,
            "percentage": round(100 * margin / revenue, 2) if revenue else 0.0}


def forecast(opportunity: Record, items: list[Record]) -> Record:
    """Return the Forecast of an opportunity: its items plus revenue totals (facts §7.11).

    GET ``/forecast`` answers an array holding this one object (SPEC/AIC; the live shape is
    UNCONFIRMED); POST answers the object itself.
    """
    by_type = {kind: [i for i in items if i["forecastType"] == kind]
               for kind in ("Product", "Service", "Agreement", "Other1", "Other2")}
    included = [i for i in items if i["includeFlag"]]
    status = (opportunity.get("status") or {}).get("name")
    total = _revenue(items)
    stamps = [i["_info"]["lastUpdated"] for i in items] + [opportunity["_info"]["lastUpdated"]]
    return {
        "id": opportunity["id"], "forecastItems": items,
        "productRevenue": _revenue(by_type["Product"]),
        "serviceRevenue": _revenue(by_type["Service"]),
        "agreementRevenue": _revenue(by_type["Agreement"]),
        "timeRevenue": _revenue([]), "expenseRevenue": _revenue([]),
        "forecastRevenueTotals": total, "inclusiveRevenueTotals": _revenue(included),
        "recurringTotal": round(sum(i["recurringRevenue"] or 0.0 for i in items), 2),
        "wonRevenue": total if status == "Won" else _revenue([]),
        "lostRevenue": total if status == "Lost" else _revenue([]),
        "openRevenue": total if status == "Open" else _revenue([]),
        "otherRevenue1": _revenue(by_type["Other1"]), "otherRevenue2": _revenue(by_type["Other2"]),
        "salesTaxRevenue": 0.0, "forecastTotalWithTaxes": total["revenue"],
        "expectedProbability": None, "taxCode": None, "billingTerms": None, "currency": None,
        "_info": {"lastUpdated": max(stamps), "updatedBy": opportunity["_info"]["updatedBy"]},
    }
