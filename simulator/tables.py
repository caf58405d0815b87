"""Small static setup tables, including the 23 "Table Setup" entities of the seed guide."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Seed 002 (Salesbuildr guide), step 2: the 23 Table Setup entities an integration needs
# visible. Each maps to the endpoint that reads it (facts §7.17: no generic setup endpoint).
TABLE_SETUP_ENDPOINTS: dict[str, str] = {
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


@dataclass(frozen=True, slots=True)
class StaticTable:
    """A fixed list of rows; ``fields`` name the columns of ``rows`` in order."""

    collection: str
    fields: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def blank(self) -> dict[str, Any]:
        """Return an empty row with every field (flags default to false)."""
        return {f: (False if f.endswith("Flag") else None) for f in ("id", *self.fields)}


COMPANY_TYPE_NAMES = (
    "Competition", "Customer", "Not-A-Fit", "Owner", "Partner", "Prospect", "Suspect",
    "Unknown", "Vendor",
)

STATIC_TABLES: tuple[StaticTable, ...] = (
    # Ids have gaps on purpose: real setup tables lose rows over the years.
    StaticTable(
        "company/companies/types",
        ("name", "defaultFlag", "vendorFlag", "serviceAlertFlag", "serviceAlertMessage"),
        (
            (1, "Competition", False, False, False, None),
            (2, "Customer", False, False, False, None),
            (4, "Not-A-Fit", False, False, True, "Do not sell to this company."),
            (5, "Owner", False, False, False, None),
            (6, "Partner", False, False, False, None),
            (7, "Prospect", True, False, False, None),
            (8, "Suspect", False, False, False, None),
            (10, "Unknown", False, False, False, None),
            (11, "Vendor", False, True, False, None),
        ),
    ),
    StaticTable(
        "company/companies/statuses",
        ("name", "defaultFlag", "inactiveFlag", "notifyFlag", "disallowSavingFlag",
         "notificationMessage", "customNoteFlag", "cancelOpenTracksFlag", "track"),
        (
            (1, "Active", True, False, False, False, None, False, False, None),
            (2, "Inactive", False, True, False, False, None, False, True, None),
            (3, "Not-Approved", False, False, True, False, "Company is not approved.",
             False, False, None),
            (5, "Credit Hold", False, False, True, True, "Credit hold: call accounting.",
             True, False, None),
            (6, "Imported", False, False, False, False, None, False, False, None),
        ),
    ),
    StaticTable(
        "company/marketDescriptions",
        ("name", "inactiveFlag"),
        tuple(
            (i + 1, name, name == "Telecom")
            for i, name in enumerate((
                "Accounting", "Advertising/Marketing", "Agriculture", "Architecture",
                "Association", "Automotive", "Banking", "Biotechnology", "Construction",
                "Consulting", "Education", "Engineering", "Entertainment", "Financial",
                "Government", "Healthcare", "Hospitality", "Insurance", "Legal",
                "Manufacturing", "Non-Profit", "Real Estate", "Retail", "Technology",
                "Telecom", "Transportation", "Utilities",
            ))
        ),
    ),
    StaticTable(
        "system/locations",
        ("name", "ownerLevelId", "reportsTo", "locationFlag", "clientFlag", "workRole"),
        (
            (1, "Corporate", 1, None, True, False, None),
            (2, "Tampa Office", 1, None, True, False, None),
            (3, "Chicago Office", 1, None, True, False, None),
            (5, "London Office", 1, None, True, False, None),
            (6, "Remote", 1, None, False, False, None),
        ),
    ),
    StaticTable(
        "company/contacts/types",
        ("description", "defaultFlag", "serviceAlertFlag", "serviceAlertMessage"),
        (
            (1, "Decision Maker", False, False, None),
            (2, "End User", True, False, None),
            (3, "Technical Contact", False, False, None),
            (4, "Billing Contact", False, False, None),
            (6, "Vendor Rep", False, False, None),
            (7, "Former Employee", False, True, "No longer with the company."),
        ),
    ),
    StaticTable(
        "company/communicationTypes",
        ("description", "phoneFlag", "faxFlag", "emailFlag", "defaultFlag"),
        (
            (1, "Email", False, False, True, True),
            (2, "Direct", True, False, False, True),
            (3, "Cell", True, False, False, False),
            (4, "Fax", False, True, False, True),
            (5, "Home", True, False, False, False),
            (7, "Pager", True, False, False, False),
        ),
    ),
    StaticTable(
        "company/addressFormats",
        ("name", "format", "defaultFlag"),
        (
            (1, "US", "[AddressLine1] [AddressLine2] [City], [State] [Zip]", True),
            (2, "UK", "[AddressLine1] [AddressLine2] [City] [Zip]", False),
            (3, "EU", "[AddressLine1] [AddressLine2] [Zip] [City]", False),
        ),
    ),
    StaticTable(
        "company/countries",
        ("name", "defaultFlag", "currency"),
        tuple(
            (i + 1, name, name == "United States", None)
            for i, name in enumerate((
                "United States", "Canada", "United Kingdom", "Ireland", "Germany", "France",
                "Netherlands", "Australia", "New Zealand", "South Africa", "Mexico", "Japan",
            ))
        ),
    ),
    StaticTable(
        "company/teamRoles",
        ("name", "accountManagerFlag", "techFlag", "salesFlag"),
        (
            (1, "Account Manager", True, False, False),
            (2, "Sales Rep", False, False, True),
            (3, "Technician", False, True, False),
            (4, "vCIO", True, True, False),
        ),
    ),
    StaticTable(
        "expense/paymentTypes",
        ("name", "defaultFlag", "reimburseFlag", "companyCardFlag"),
        (
            (1, "Cash", True, True, False),
            (2, "Company Credit Card", False, False, True),
            (3, "Personal Card", False, True, False),
        ),
    ),
    StaticTable(
        "procurement/warehouseBins",
        ("name", "inactiveFlag", "defaultFlag"),
        ((1, "Main Bin", False, True), (2, "Receiving", False, False),
         (3, "Staging", False, False)),
    ),
    StaticTable(
        "finance/billingCycles",
        ("name", "defaultFlag"),
        ((1, "Weekly", False), (2, "Monthly", True), (3, "Quarterly", False),
         (4, "Annually", False), (6, "Bi-Annually", False)),
    ),
    StaticTable(
        "finance/billingTerms",
        ("name", "defaultFlag", "dueDays"),
        ((1, "Net 15", False, 15), (2, "Net 30", True, 30), (3, "Net 45", False, 45),
         (4, "Due on Receipt", False, 0)),
    ),
    StaticTable(
        "finance/taxCodes",
        ("identifier", "description", "defaultFlag"),
        ((1, "Tax-State", "State sales tax", True), (2, "Exempt", "Tax exempt", False),
         (3, "VAT-20", "UK VAT 20%", False)),
    ),
    StaticTable(
        "sales/opportunities/statuses",
        # DJCW fixtures: Open (default), Won (closed+won), Lost (closed+lost), "No Decision"
        # (closed only); facts §7.11.
        ("name", "wonFlag", "lostFlag", "closedFlag", "inactiveFlag", "defaultFlag",
         "enteredBy", "dateEntered"),
        (
            (1, "Open", False, False, False, False, True, "admin", "2019-03-01T12:00:00Z"),
            (2, "Won", True, False, True, False, False, "admin", "2019-03-01T12:00:00Z"),
            (3, "Lost", False, True, True, False, False, "admin", "2019-03-01T12:00:00Z"),
            (4, "No Decision", False, False, True, False, False, "admin",
             "2019-03-01T12:00:00Z"),
        ),
    ),
    StaticTable(
        "sales/probabilities",
        ("probability",),
        ((1, 10), (2, 25), (3, 50), (4, 75), (5, 90), (6, 100)),
    ),
    StaticTable(
        "sales/stages",
        ("name", "probability", "color", "sequenceNumber"),
        ((1, "1.Prospect", None, "#9E9E9E", 1), (2, "2.Qualification", None, "#2196F3", 2),
         (8, "3.Quote", None, "#FF9800", 3), (9, "4.Negotiation", None, "#9C27B0", 4),
         (10, "5.Close", None, "#4CAF50", 5)),
    ),
    StaticTable(
        "sales/teams",
        ("name", "inactiveFlag"),
        ((1, "Inside Sales", False), (2, "Field Sales", False), (3, "Renewals", False)),
    ),
    StaticTable(
        "sales/opportunities/types",
        ("description", "inactiveFlag"),
        ((1, "New Business", False), (2, "Upsell", False), (3, "Renewal", False),
         (4, "Managed Services", False), (5, "Project", False), (7, "Legacy Hardware", True)),
    ),
    StaticTable(
        "procurement/types",
        ("name", "defaultFlag", "inactiveFlag", "typeXref"),
        ((1, "Hardware", False, False, "InventoryPart"),
         (2, "Non-Inventory", True, False, "NonInventoryPart"),
         (3, "Service", False, False, "Service"),
         (4, "Other Charge", False, False, "OtherCharge"),
         (5, "Software", False, False, "NonInventoryPart"),
         (6, "Discontinued", False, True, "InventoryPart")),
    ),
    StaticTable(
        "procurement/unitOfMeasures",
        ("name", "defaultFlag"),
        ((1, "Each", True), (2, "Hour", False), (3, "Month", False), (4, "User/Month", False),
         (5, "Box", False)),
    ),
    StaticTable(
        "service/priorities",
        ("name", "color", "sortOrder", "defaultFlag"),
        ((1, "Priority 1 - Emergency Response", "Red", 1, False),
         (2, "Priority 2 - Quick Response", "Orange", 2, False),
         (3, "Priority 3 - Normal Response", "Green", 3, True),
         (4, "Priority 4 - Schedule Maintenance", "Blue", 4, False),
         (5, "Do Not Respond", "Grey", 5, False)),
    ),
    StaticTable(
        "service/boards",
        ("name", "inactiveFlag", "projectFlag"),
        ((1, "Help Desk", False, False), (2, "Alerts", False, False),
         (3, "Projects", False, True), (4, "Sales Support", False, False)),
    ),
    StaticTable(
        "service/severities",
        ("name", "sortOrder", "description"),
        ((1, "High", 1, "Many users affected"), (2, "Medium", 2, "Some users affected"),
         (3, "Low", 3, "One user affected")),
    ),
    StaticTable(
        "service/SLAs",
        ("name", "defaultFlag", "basedOn"),
        ((1, "Standard SLA", True, "AllHours"), (2, "Premium SLA", False, "Custom")),
    ),
    StaticTable(
        "sales/activities/statuses",
        ("name", "defaultFlag", "inactiveFlag", "spawnFollowupFlag", "closedFlag"),
        ((1, "Open", True, False, False, False), (2, "Closed", False, False, False, True)),
    ),
    StaticTable(
        "sales/activities/types",
        ("name", "points", "defaultFlag", "inactiveFlag", "emailFlag", "memoFlag",
         "historyFlag"),
        ((1, "Call", 1, True, False, False, False, False),
         (2, "Appointment", 2, False, False, False, False, False),
         (3, "Historical Entry", 0, False, False, False, False, True),
         (4, "Quote", 3, False, False, False, False, False),
         (5, "Follow Up", 1, False, False, False, False, False),
         (6, "Email", 1, False, False, True, False, False),
         (7, "Task", 1, False, False, False, True, False)),
    ),
    StaticTable(
        "finance/agreements/types",
        ("name", "defaultFlag"),
        ((1, "Managed Services", True), (2, "Break/Fix", False),
         (5, "Block Time - One time", False), (6, "Software Subscription", False),
         (7, "Project", False)),
    ),
    StaticTable(
        "system/securityroles",
        ("name", "adminFlag", "inactiveFlag"),
        ((63, "Admin", True, False), (64, "Sales", False, False),
         (65, "Service Desk", False, False), (70, "API Integration", False, False)),
    ),
    StaticTable(
        "marketing/groups",
        ("name", "description", "inactiveFlag"),
        ((1, "Newsletter", "Monthly newsletter list", False),
         (2, "Webinar Leads", "Signed up for a webinar", False)),
    ),
    StaticTable(
        "project/projects",
        ("name", "closedFlag", "billingMethod"),
        ((1, "Office 365 Migration", False, "FixedFee"),
         (2, "Firewall Refresh", True, "ActualRates")),
    ),
)
