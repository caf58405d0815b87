"""Entity declarations: path, security module, validation rules, references, callbacks.

One frozen declaration per collection; the generic read and write code does the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from simulator import shapes
from simulator.tables import STATIC_TABLES, TABLE_SETUP_ENDPOINTS

Record = dict[str, Any]


def _name(record: Record) -> str | None:
    return record.get("name")


def _description(record: Record) -> str | None:
    return record.get("description")


def _person(record: Record) -> str:
    return " ".join(p for p in (record.get("firstName"), record.get("lastName")) if p)


def _probability(record: Record) -> str:
    return str(record.get("probability"))


def _identifier(record: Record) -> str | None:
    return record.get("identifier")


@dataclass(frozen=True, slots=True)
class RefField:
    """A field holding a reference object (or an array of them) to another collection."""

    target: str
    many: bool = False


@dataclass(frozen=True, slots=True)
class Parent:
    """How a child collection hangs under a parent record in the URL and in the record."""

    collection: str  # parent collection, e.g. "finance/agreements"
    link: str  # field of the child naming the parent: "agreementId" or "opportunity"


@dataclass(frozen=True, slots=True)
class Resource:
    """One collection of records and the rules the API applies to it."""

    collection: str
    module: str
    label: str
    object_name: str
    blank: Callable[[], Record]
    href_key: str
    name_of: Callable[[Record], Any] = _name
    ref_identifier: bool = False
    ref_extra: Callable[[Record], Record] | None = None
    route: str | None = None  # URL path when it differs from the collection key
    table: str | None = None
    writable: bool = False
    required: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    limits: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    refs: Mapping[str, RefField] = field(default_factory=lambda: MappingProxyType({}))
    enums: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    unique: tuple[str, ...] = ()
    callback_type: str | None = None
    parent: Parent | None = None
    soft_delete: bool = False
    lookup_field: str | None = None

    @property
    def path(self) -> str:
        """Return the URL path template below ``apis/3.0/``."""
        return self.route or self.collection


def _agreement_extra(record: Record) -> Record:
    agreement_type = record.get("type") or {}
    return {"type": agreement_type.get("name")}


def _m(**kwargs: Any) -> Mapping[str, Any]:
    return MappingProxyType(kwargs)


R = RefField
_COMPANY = "company/companies"
_CONTACT = "company/contacts"
_MEMBER = "system/members"

_BULK: tuple[Resource, ...] = (
    Resource(
        _COMPANY, "Companies", "Company", "company", shapes.blank_company, "company_href",
        ref_identifier=True, writable=True, callback_type="company", soft_delete=True,
        required=("identifier", "name"),
        # SPEC: "at least one address field is required" (facts §7.5).
        any_of=("addressLine1", "addressLine2", "city", "state", "zip", "country"),
        limits=_m(identifier=156, name=156, addressLine1=50, addressLine2=50, city=50,
                  state=50, zip=12, phoneNumber=30, faxNumber=30, website=1024,
                  accountNumber=30),
        refs=_m(status=R("company/companies/statuses"),
                types=R("company/companies/types", many=True),
                territory=R("system/locations"), market=R("company/marketDescriptions"),
                country=R("company/countries"), defaultContact=R(_CONTACT),
                parentCompany=R(_COMPANY), taxCode=R("finance/taxCodes"),
                billingTerms=R("finance/billingTerms"), billToCompany=R(_COMPANY),
                billingContact=R(_CONTACT), territoryManager=R(_MEMBER)),
        unique=("identifier",),
    ),
    Resource(
        _CONTACT, "Companies", "Contact", "contact", shapes.blank_contact, "contact_href",
        name_of=_person, writable=True, callback_type="contact",
        # firstName is enforced by the server although the SPEC omits it (facts §7.6, §10);
        # the 30-character name limits come from the older SPEC (UNCONFIRMED for 2025.1).
        required=("firstName",),
        limits=_m(firstName=30, lastName=30, title=100, addressLine1=50, addressLine2=50,
                  zip=12),
        refs=_m(company=R(_COMPANY), country=R("company/countries"),
                types=R("company/contacts/types", many=True),
                managerContact=R(_CONTACT), assistantContact=R(_CONTACT)),
        enums=_m(gender=("Female", "Male")),
    ),
    Resource(
        "procurement/catalog", "Procurement", "CatalogItem", "catalogItem",
        shapes.blank_catalog_item, "catalog_href", name_of=_description,
        ref_identifier=True, writable=True, callback_type="productcatalog",
        required=("identifier", "description", "subcategory", "type", "customerDescription"),
        limits=_m(identifier=75, description=60, customerDescription=6000,
                  manufacturerPartNumber=50, vendorSku=50),
        refs=_m(category=R("procurement/categories"),
                subcategory=R("procurement/subcategories"), type=R("procurement/types"),
                manufacturer=R("procurement/manufacturers"), vendor=R(_COMPANY),
                unitOfMeasure=R("procurement/unitOfMeasures"),
                recurringBillCycle=R("finance/billingCycles")),
        enums=_m(productClass=("Agreement", "Bundle", "Inventory", "NonInventory", "Service"),
                 priceAttribute=("FixedFee", "NotToExceed", "OverrideRate",
                                 "TimeAndMaterials"),
                 billableOption=("Billable", "DoNotBill", "NoCharge", "NoDefault")),
        unique=("identifier",),
    ),
    Resource(
        "sales/opportunities", "Sales", "Opportunity", "opportunity",
        shapes.blank_opportunity, "opportunity_href", writable=True,
        callback_type="opportunity",
        required=("name", "primarySalesRep", "company", "contact"),
        limits=_m(name=100, source=50, customerPO=25),
        refs=_m(type=R("sales/opportunities/types"), stage=R("sales/stages"),
                status=R("sales/opportunities/statuses"),
                probability=R("sales/probabilities"), primarySalesRep=R(_MEMBER),
                secondarySalesRep=R(_MEMBER), company=R(_COMPANY), contact=R(_CONTACT),
                closedBy=R(_MEMBER), billingTerms=R("finance/billingTerms"),
                taxCode=R("finance/taxCodes")),
    ),
    Resource(
        "sales/opportunities/forecast", "Sales", "Forecast item", "forecastItem",
        shapes.blank_forecast_item, "forecast_href", name_of=lambda r: r.get("id"),
        route="sales/opportunities/{pid}/forecast", writable=True,
        parent=Parent("sales/opportunities", "opportunity"),
        required=("status", "forecastType"),
        limits=_m(forecastDescription=50, productDescription=6000),
        refs=_m(opportunity=R("sales/opportunities"),
                status=R("sales/opportunities/statuses"),
                catalogItem=R("procurement/catalog")),
        enums=_m(forecastType=("Other1", "Other2", "Agreement", "Product", "Service")),
    ),
    Resource(
        "sales/activities", "Sales", "Activity", "activity", shapes.blank_activity,
        "activity_href", writable=True, callback_type="activity",
        required=("name", "assignTo"), limits=_m(name=100, phoneNumber=30, email=250),
        refs=_m(type=R("sales/activities/types"), company=R(_COMPANY),
                contact=R(_CONTACT), status=R("sales/activities/statuses"),
                opportunity=R("sales/opportunities"), agreement=R("finance/agreements"),
                assignedBy=R(_MEMBER), assignTo=R(_MEMBER)),
    ),
    Resource(
        "finance/agreements", "Finance", "Agreement", "agreement", shapes.blank_agreement,
        "agreement_href", ref_extra=_agreement_extra, writable=True,
        callback_type="agreement", required=("name", "type", "company", "contact"),
        limits=_m(name=100, customerPO=50, invoiceDescription=4000),
        refs=_m(type=R("finance/agreements/types"), company=R(_COMPANY),
                contact=R(_CONTACT), parentAgreement=R("finance/agreements"),
                opportunity=R("sales/opportunities"),
                billingCycle=R("finance/billingCycles"),
                billingTerms=R("finance/billingTerms"), taxCode=R("finance/taxCodes")),
        enums=_m(applicationUnits=("Amount", "Hours", "Incidents"),
                 billTime=("Billable", "DoNotBill", "NoCharge", "NoDefault"),
                 billExpenses=("Billable", "DoNotBill", "NoCharge", "NoDefault"),
                 billProducts=("Billable", "DoNotBill", "NoCharge", "NoDefault"),
                 agreementStatus=("Active", "Cancelled", "Expired", "Inactive")),
    ),
    Resource(
        "finance/agreements/additions", "Finance", "Addition", "addition",
        shapes.blank_addition, "addition_href", name_of=_description,
        route="finance/agreements/{pid}/additions", writable=True,
        parent=Parent("finance/agreements", "agreementId"),
        required=("product", "billCustomer"),
        limits=_m(invoiceDescription=6000, serialNumber=50, description=60),
        refs=_m(product=R("procurement/catalog"), opportunity=R("sales/opportunities")),
        enums=_m(billCustomer=("Billable", "DoNotBill", "NoCharge")),
    ),
    Resource(
        _MEMBER, "System", "Member", "member", shapes.blank_member, "member_href",
        name_of=_person, ref_identifier=True, lookup_field="identifier",
        limits=_m(identifier=15, firstName=30, lastName=30),
        refs=_m(securityRole=R("system/securityroles"),
                defaultLocation=R("system/locations"), reportsTo=R(_MEMBER)),
    ),
    Resource(
        "system/callbacks", "System", "Callback", "callbackEntry", shapes.blank_callback,
        "callback_href", name_of=_description, writable=True,
        required=("url", "objectId", "type", "level"), limits=_m(description=100, url=1000),
    ),
)

# Per static table: (label, object name, href key, name function, writable, required,
# limits, refs). Unlisted tables are read-only with a "name" column.
_STATIC_RULES: dict[str, tuple[str, str, str, Callable[[Record], Any], bool, Mapping[str, int],
                               Mapping[str, RefField]]] = {
    "company/companies/types": ("CompanyType", "companyType", "type_href", _name, True,
                                _m(name=50, serviceAlertMessage=150), _m()),
    "company/companies/statuses": ("CompanyStatus", "companyStatus", "status_href", _name,
                                   False, _m(name=50), _m()),
    "company/contacts/types": ("ContactType", "contactType", "type_href", _description,
                               False, _m(description=50), _m()),
    "company/communicationTypes": ("CommunicationType", "communicationType", "type_href",
                                   _description, False, _m(description=50), _m()),
    "sales/opportunities/types": ("OpportunityType", "opportunityType", "type_href",
                                  _description, False, _m(description=50), _m()),
    "sales/opportunities/statuses": ("OpportunityStatus", "opportunityStatus",
                                     "status_href", _name, True, _m(name=30), _m()),
    "sales/probabilities": ("SalesProbability", "salesProbability", "probability_href",
                            _probability, False, _m(), _m()),
    "sales/stages": ("OpportunityStage", "opportunityStage", "stage_href", _name, False,
                     _m(name=50), _m(probability=R("sales/probabilities"))),
    "finance/taxCodes": ("TaxCode", "taxCode", "taxCode_href", _identifier, False, _m(),
                         _m()),
}
_MODULE_BY_PREFIX = {
    "company": "Companies", "finance": "Finance", "expense": "Finance",
    "marketing": "Marketing", "procurement": "Procurement", "project": "Project",
    "sales": "Sales", "service": "Service Desk", "system": "System",
}
_TABLE_BY_ENDPOINT = {endpoint: name for name, endpoint in TABLE_SETUP_ENDPOINTS.items()}


def module_of(path: str) -> str:
    """Return the security module owning an endpoint path (``expense/*`` → Finance)."""
    return _MODULE_BY_PREFIX.get(path.split("/", 1)[0].lower(), "System")


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("uses"):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


def _static_resource(table: Any) -> Resource:
    collection = table.collection
    noun = _singular(collection.rsplit("/", 1)[-1])
    label, obj, href, name_of, writable, limits, refs = _STATIC_RULES.get(
        collection,
        (noun[:1].upper() + noun[1:], noun, f"{noun}_href", _name, False, _m(), _m()),
    )
    first_text = next((f for f in table.fields if f in ("name", "description")), None)
    return Resource(
        collection, module_of(collection), label, obj, table.blank, href, name_of=name_of,
        table=_TABLE_BY_ENDPOINT.get(collection), writable=writable,
        required=(first_text,) if first_text and writable else (), limits=limits, refs=refs,
    )


_GENERATED_SETUP: tuple[Resource, ...] = (
    Resource(
        "procurement/categories", "Procurement", "Category", "category",
        lambda: {"id": None, "name": None, "inactiveFlag": False, "priceLevelXref": None,
                 "integrationXref": None, "defaultFlag": False, "_info": None},
        "category_href", table="Category", writable=True, required=("name",),
        limits=_m(name=50, priceLevelXref=10, integrationXref=50),
    ),
    Resource(
        "procurement/subcategories", "Procurement", "Subcategory", "subCategory",
        lambda: {"id": None, "name": None, "category": None, "inactiveFlag": False,
                 "defaultFlag": False, "integrationXref": None, "_info": None},
        "subcategory_href", table="Subcategory", writable=True,
        required=("name", "category"), limits=_m(name=50, integrationXref=50),
        refs=_m(category=R("procurement/categories")),
    ),
    Resource(
        "procurement/manufacturers", "Procurement", "Manufacturer", "manufacturer",
        lambda: {"id": None, "name": None, "inactiveFlag": False, "_info": None},
        "manufacturer_href", table="Manufacturers", writable=True, required=("name",),
        limits=_m(name=50),
    ),
)


def _build_registry() -> dict[str, Resource]:
    resources = [*_BULK, *_GENERATED_SETUP, *(_static_resource(t) for t in STATIC_TABLES)]
    registry: dict[str, Resource] = {}
    for resource in resources:
        if resource.collection in registry:
            raise ValueError(f"Resource {resource.collection!r} is declared twice")
        registry[resource.collection] = resource
    for resource in registry.values():
        for name, ref in resource.refs.items():
            if ref.target not in registry:
                raise ValueError(f"{resource.collection}.{name} refers to unknown {ref.target}")
    return registry


REGISTRY: Mapping[str, Resource] = MappingProxyType(_build_registry())
# The categories path also lists a category's subcategories (facts §7.7).
SUBCATEGORY_ROUTE = "procurement/categories/{pid}/subcategories"


def make_ref(resource: Resource, record: Record) -> Record:
    """Return the reference object other records embed: ``{id, name, _info}`` (facts §7)."""
    ref: Record = {"id": record["id"]}
    if resource.ref_identifier:
        ref["identifier"] = record.get("identifier")
    ref["name"] = resource.name_of(record)
    if resource.ref_extra is not None:
        ref.update(resource.ref_extra(record))
    ref["_info"] = {resource.href_key: f"{shapes.HREF_BASE}/{resource.collection}/{record['id']}"}
    return ref
