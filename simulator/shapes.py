"""Blank records: every field a GET returns, with the defaults a POST leaves unset.

Writes start from these templates so that every stored record has the same keys in the same
order as a seeded one, and PUT can reset omitted fields (facts §8: "PUT replaces the whole
entity; unspecified fields reset to defaults/null").
"""

from __future__ import annotations

from typing import Any

# Hrefs in reference objects point at the public cloud host, as real records do; the ETL never
# follows them, and a fixed base keeps seeded data identical whatever port the simulator uses.
HREF_BASE = "https://api-na.myconnectwise.net/v2025_1/apis/3.0"

Record = dict[str, Any]

# Custom field definitions per collection: (id, caption, type, entryMethod, numberOfDecimals).
# Shape per facts §7 (`CustomFieldValue`); captions are deliberately not unique across entities.
CUSTOM_FIELDS: dict[str, tuple[tuple[int, str, str, str, int], ...]] = {
    "company/companies": (
        (3, "Account Tier", "Text", "List", 0),
        (4, "HubSpot ID", "Number", "EntryField", 0),
        (5, "Onboarded", "Checkbox", "EntryField", 0),
    ),
    "company/contacts": (
        (15, "hubspot_contact_id", "Number", "EntryField", 0),
        (16, "Newsletter", "Checkbox", "EntryField", 0),
        (17, "Preferred Name", "Text", "EntryField", 0),
    ),
    "procurement/catalog": ((21, "Vendor URL", "Hyperlink", "EntryField", 0),),
    "sales/opportunities": (
        (31, "Deal Source", "Text", "List", 0),
        (32, "Competitor", "Text", "EntryField", 0),
    ),
    "sales/activities": ((41, "Outcome", "Text", "List", 0),),
    "finance/agreements": ((51, "Contract Ref", "Text", "EntryField", 0),),
    "finance/agreements/additions": ((55, "Renewal Note", "TextArea", "EntryField", 0),),
    "system/members": ((61, "Employee Number", "Number", "EntryField", 0),),
}


def custom_fields(collection: str) -> list[Record]:
    """Return the collection's custom field array with every value unset (``null``)."""
    return [
        {
            "id": cf_id,
            "caption": caption,
            "type": cf_type,
            "entryMethod": entry,
            "numberOfDecimals": decimals,
            "value": None,
        }
        for cf_id, caption, cf_type, entry, decimals in CUSTOM_FIELDS.get(collection, ())
    ]


def info(last_updated: str, updated_by: str, date_entered: str | None = None) -> Record:
    """Return an ``_info`` block; timestamps are UTC, second precision, ``Z`` (facts §6)."""
    block: Record = {"lastUpdated": last_updated, "updatedBy": updated_by}
    if date_entered is not None:
        block["dateEntered"] = date_entered
        block["enteredBy"] = updated_by
    return block


def blank_company() -> Record:
    """Return a company with every field of the GET shape (facts §7.5)."""
    return {
        "id": None, "identifier": None, "name": None, "status": None, "types": [],
        "addressLine1": None, "addressLine2": None, "city": None, "state": None, "zip": None,
        "country": None, "phoneNumber": None, "faxNumber": None, "website": None,
        "territory": None, "market": None, "accountNumber": None, "defaultContact": None,
        "dateAcquired": None, "sicCode": None, "parentCompany": None, "annualRevenue": None,
        "numberOfEmployees": None, "ownershipType": None, "timeZoneSetup": None,
        "leadSource": None, "leadFlag": False, "unsubscribeFlag": False, "taxCode": None,
        "billingTerms": None, "billToCompany": None, "billingContact": None,
        "deletedFlag": False, "dateDeleted": None, "deletedBy": None, "mobileGuid": None,
        "currency": None, "territoryManager": None, "isVendorFlag": False,
        "integratorTags": [], "_info": None, "customFields": custom_fields("company/companies"),
    }


def blank_contact() -> Record:
    """Return a contact with every field of the GET shape (facts §7.6)."""
    return {
        "id": None, "firstName": None, "lastName": None, "company": None, "site": None,
        "addressLine1": None, "addressLine2": None, "city": None, "state": None, "zip": None,
        "country": None, "relationship": None, "department": None, "inactiveFlag": False,
        "title": None, "managerContact": None, "assistantContact": None, "nickName": None,
        "marriedFlag": False, "childrenFlag": False, "portalSecurityLevel": None,
        "disablePortalLoginFlag": False, "unsubscribeFlag": False, "gender": None,
        "birthDay": None, "anniversary": None, "presence": "NoAgent", "mobileGuid": None,
        "defaultPhoneType": None, "defaultPhoneNbr": None, "defaultPhoneExtension": None,
        "defaultBillingFlag": False, "defaultFlag": False, "companyLocation": None,
        "communicationItems": [], "types": [], "integratorTags": [], "_info": None,
        "customFields": custom_fields("company/contacts"),
    }


def blank_catalog_item() -> Record:
    """Return a catalog item with every field of the GET shape (facts §7.10)."""
    return {
        "id": None, "identifier": None, "description": None, "inactiveFlag": False,
        "category": None, "subcategory": None, "type": None, "productClass": "NonInventory",
        "serializedFlag": False, "serializedCostFlag": False, "phaseProductFlag": False,
        "unitOfMeasure": None, "minStockLevel": 0, "price": 0.0, "cost": None,
        "priceAttribute": "FixedFee", "taxableFlag": False, "dropShipFlag": False,
        "specialOrderFlag": False, "customerDescription": None, "manufacturer": None,
        "manufacturerPartNumber": None, "vendor": None, "vendorSku": None, "notes": None,
        "integrationXRef": None, "recurringFlag": False, "recurringRevenue": 0.0,
        "recurringCost": 0.0, "recurringOneTimeFlag": False, "recurringBillCycle": None,
        "recurringCycleType": None, "calculatedPriceFlag": False, "calculatedCostFlag": False,
        "billableOption": "Billable", "markupPercentage": None, "dateEntered": None,
        "_info": None, "customFields": custom_fields("procurement/catalog"),
    }


def blank_opportunity() -> Record:
    """Return an opportunity with every field of the GET shape (facts §7.11)."""
    return {
        "id": None, "name": None, "expectedCloseDate": None, "type": None, "stage": None,
        "status": None, "priority": None, "notes": None, "probability": None, "source": None,
        "rating": None, "campaign": None, "primarySalesRep": None, "secondarySalesRep": None,
        "locationId": None, "businessUnitId": None, "company": None, "contact": None,
        "site": None, "customerPO": None, "pipelineChangeDate": None, "dateBecameLead": None,
        "closedDate": None, "closedBy": None, "totalSalesTax": 0.0, "billingTerms": None,
        "taxCode": None, "currency": None, "technicalContact": None, "_info": None,
        "customFields": custom_fields("sales/opportunities"),
    }


def blank_activity() -> Record:
    """Return a sales activity with every field of the GET shape (facts §7.12)."""
    return {
        "id": None, "name": None, "type": None, "company": None, "contact": None,
        "phoneNumber": None, "email": None, "status": None, "opportunity": None,
        "ticket": None, "agreement": None, "campaign": None, "notes": None,
        "dateStart": None, "dateEnd": None, "assignedBy": None, "assignTo": None,
        "scheduleStatus": None, "reminder": None, "where": None, "notifyFlag": False,
        "mobileGuid": None, "currency": None, "_info": None,
        "customFields": custom_fields("sales/activities"),
    }


def blank_agreement() -> Record:
    """Return an agreement with the commonly used fields of the GET shape (facts §7.13)."""
    return {
        "id": None, "name": None, "type": None, "company": None, "contact": None,
        "site": None, "parentAgreement": None, "customerPO": None, "startDate": None,
        "endDate": None, "noEndingDateFlag": False, "opportunity": None,
        "cancelledFlag": False, "dateCancelled": None, "reasonCancelled": None,
        "applicationUnits": "Amount", "applicationLimit": 0.0, "applicationCycle": None,
        "applicationUnlimitedFlag": False, "oneTimeFlag": False,
        "coverAgreementTimeFlag": False, "coverAgreementProductFlag": False,
        "allowOverrunsFlag": False, "compHourlyRate": 0.0, "compLimitAmount": 0.0,
        "billingCycle": None, "billingTerms": None, "billAmount": 0.0, "taxableFlag": False,
        "taxCode": None, "billTime": "Billable", "billExpenses": "Billable",
        "billProducts": "Billable", "workRole": None, "workType": None,
        "invoiceDescription": None, "agreementStatus": "Active", "_info": None,
        "customFields": custom_fields("finance/agreements"),
    }


def blank_addition() -> Record:
    """Return an agreement addition with every field of the GET shape (facts §7.13)."""
    return {
        "id": None, "product": None, "quantity": 1.0, "lessIncluded": 0.0, "unitPrice": 0.0,
        "unitCost": 0.0, "billCustomer": None, "effectiveDate": None, "cancelledDate": None,
        "taxableFlag": False, "serialNumber": None, "invoiceDescription": None,
        "purchaseItemFlag": False, "specialOrderFlag": False, "agreementId": None,
        "description": None, "billedQuantity": 0.0, "uom": None, "extPrice": 0.0,
        "extCost": 0.0, "sequenceNumber": None, "margin": 0.0, "opportunity": None,
        "agreementStatus": "Active", "invoiceGrouping": None, "_info": None,
        "customFields": custom_fields("finance/agreements/additions"),
    }


def blank_forecast_item() -> Record:
    """Return an opportunity forecast item (SPEC ``ForecastItem``, facts §7.11)."""
    return {
        "id": None, "forecastDescription": None, "opportunity": None, "quantity": 1.0,
        "status": None, "catalogItem": None, "productDescription": None,
        "productClass": None, "revenue": 0.0, "cost": 0.0, "margin": 0.0,
        "percentage": 0.0, "includeFlag": True, "linkFlag": False, "recurringFlag": False,
        "recurringRevenue": 0.0, "recurringCost": 0.0, "cycles": None,
        "sequenceNumber": None, "subNumber": None, "taxableFlag": False,
        "forecastType": None, "_info": None,
    }


def blank_member() -> Record:
    """Return a member with the key fields of the GET shape (facts §7.14)."""
    return {
        "id": None, "identifier": None, "firstName": None, "lastName": None, "title": None,
        "officeEmail": None, "officePhone": None, "licenseClass": "F", "inactiveFlag": False,
        "inactiveDate": None, "adminFlag": False, "securityRole": None,
        "defaultLocation": None, "defaultDepartment": None, "reportsTo": None,
        "workRole": None, "workType": None, "hourlyCost": 0.0, "hourlyRate": 0.0,
        "hireDate": None, "lastLogin": None, "photo": None, "_info": None,
        "customFields": custom_fields("system/members"),
    }


def blank_callback() -> Record:
    """Return a callback entry (SPEC ``CallbackEntry``, facts §9)."""
    return {
        "id": None, "description": None, "url": None, "objectId": None, "type": None,
        "level": None, "memberId": None, "payloadVersion": None, "inactiveFlag": False,
        "isSoapCallbackFlag": False, "isSelfSuppressedFlag": False, "connectWiseID": None,
        "_info": None,
    }
