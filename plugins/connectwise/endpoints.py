"""Every ConnectWise endpoint the package calls, declared once (API facts §3, §7).

The registry reads its entities from these, the preflight probes them, the mapping checks
resolve names on them and the push writes to them; a path typed twice could drift apart.
"""

from __future__ import annotations

from typing import Final

# Companies module
ADDRESS_FORMATS: Final = "company/addressFormats"
COMMUNICATION_TYPES: Final = "company/communicationTypes"
COMPANIES: Final = "company/companies"
COMPANY_STATUSES: Final = "company/companies/statuses"
COMPANY_TYPES: Final = "company/companies/types"
CONTACTS: Final = "company/contacts"
COUNTRIES: Final = "company/countries"
TEAM_ROLES: Final = "company/teamRoles"

# Finance and expense modules
AGREEMENTS: Final = "finance/agreements"
AGREEMENT_ADDITIONS: Final = "finance/agreements/{parent_id}/additions"
AGREEMENT_TYPES: Final = "finance/agreements/types"
BILLING_CYCLES: Final = "finance/billingCycles"
BILLING_TERMS: Final = "finance/billingTerms"
PAYMENT_TYPES: Final = "expense/paymentTypes"
TAX_CODES: Final = "finance/taxCodes"

# Procurement module
CATALOG: Final = "procurement/catalog"
CATEGORIES: Final = "procurement/categories"
MANUFACTURERS: Final = "procurement/manufacturers"
PRODUCT_TYPES: Final = "procurement/types"
SUBCATEGORIES: Final = "procurement/subcategories"
WAREHOUSE_BINS: Final = "procurement/warehouseBins"

# Sales module
ACTIVITIES: Final = "sales/activities"
ACTIVITY_STATUSES: Final = "sales/activities/statuses"
ACTIVITY_TYPES: Final = "sales/activities/types"
OPPORTUNITIES: Final = "sales/opportunities"
OPPORTUNITY_STATUSES: Final = "sales/opportunities/statuses"
OPPORTUNITY_TYPES: Final = "sales/opportunities/types"
SALES_PROBABILITIES: Final = "sales/probabilities"
SALES_STAGES: Final = "sales/stages"
SALES_TEAMS: Final = "sales/teams"

# Service, project and marketing modules
MARKETING_GROUPS: Final = "marketing/groups"
PROJECTS: Final = "project/projects"
SERVICE_BOARDS: Final = "service/boards"
SERVICE_PRIORITIES: Final = "service/priorities"
SERVICE_SEVERITIES: Final = "service/severities"
SERVICE_SLAS: Final = "service/SLAs"

# System module
CALLBACKS: Final = "system/callbacks"
MEMBERS: Final = "system/members"
SYSTEM_INFO: Final = "system/info"
