"""Each entity: list, by id, 404, count, and the shape of references, _info, customFields."""

from __future__ import annotations

import re

import pytest

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ENTITIES = [
    "company/companies/types",
    "company/companies/statuses",
    "company/marketDescriptions",
    "system/locations",
    "company/companies",
    "company/contacts",
    "company/contacts/types",
    "company/communicationTypes",
    "procurement/categories",
    "procurement/subcategories",
    "procurement/manufacturers",
    "procurement/types",
    "procurement/catalog",
    "sales/opportunities",
    "sales/opportunities/statuses",
    "sales/opportunities/types",
    "sales/stages",
    "sales/probabilities",
    "sales/activities",
    "sales/activities/statuses",
    "sales/activities/types",
    "finance/agreements",
    "finance/agreements/types",
    "system/members",
    "system/securityroles",
]


@pytest.mark.parametrize("path", ENTITIES)
def test_entity_list_by_id_count_and_404(api, path):
    rows = api.rows(path, pageSize=1000)
    assert rows and [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    first = rows[0]
    assert api.rows(f"{path}/{first['id']}") == first
    assert api.get(f"{path}/count").json() == {"count": len(rows)}
    missing = api.get(f"{path}/987654")
    assert missing.status_code == 404
    assert missing.json()["code"] == "NotFound"
    assert missing.json()["message"].endswith("987654 not found")
    assert STAMP.match(first["_info"]["lastUpdated"])


def test_contact_404_message_matches_the_real_one(api):
    assert api.get("company/contacts/57919").json() == {
        "code": "NotFound",
        "message": "Contact 57919 not found",
    }


def test_company_shape(api):
    company = api.rows("company/companies/3")
    for key in (
        "identifier",
        "name",
        "types",
        "status",
        "market",
        "territory",
        "numberOfEmployees",
        "phoneNumber",
        "faxNumber",
        "website",
        "deletedFlag",
        "dateDeleted",
        "deletedBy",
        "addressLine1",
        "city",
        "zip",
        "customFields",
    ):
        assert key in company
    status = company["status"]
    assert set(status) == {"id", "name", "_info"}
    assert status["_info"]["status_href"].endswith(f"/company/companies/statuses/{status['id']}")
    assert all(set(t) == {"id", "name", "_info"} for t in company["types"])
    assert {"lastUpdated", "updatedBy", "dateEntered"} <= set(company["_info"])


def test_company_refs_carry_identifier(api):
    contact = next(c for c in api.rows("company/contacts") if c["company"])
    assert set(contact["company"]) == {"id", "identifier", "name", "_info"}
    assert "company_href" in contact["company"]["_info"]


def test_contact_shape(api):
    contacts = api.rows("company/contacts", pageSize=1000)
    with_items = next(c for c in contacts if c["communicationItems"])
    item = with_items["communicationItems"][0]
    assert {"id", "type", "value", "defaultFlag", "communicationType"} <= set(item)
    assert item["communicationType"] in ("Email", "Phone", "Fax")
    fields = with_items["customFields"]
    assert {f["caption"] for f in fields} >= {"hubspot_contact_id"}
    assert any(f["value"] is None for c in contacts for f in c["customFields"])
    assert set(fields[0]) == {"id", "caption", "type", "entryMethod", "numberOfDecimals", "value"}


def test_company_types_include_the_seed_static_ones(api):
    names = {t["name"] for t in api.rows("company/companies/types")}
    assert names == {
        "Competition",
        "Customer",
        "Not-A-Fit",
        "Owner",
        "Partner",
        "Prospect",
        "Suspect",
        "Unknown",
        "Vendor",
    }


def test_opportunity_statuses_flags(api):
    statuses = {s["name"]: s for s in api.rows("sales/opportunities/statuses")}
    assert statuses["Open"]["defaultFlag"] and not statuses["Open"]["closedFlag"]
    assert statuses["Won"]["wonFlag"] and statuses["Won"]["closedFlag"]
    assert statuses["Lost"]["lostFlag"] and statuses["Lost"]["closedFlag"]
    no_decision = statuses["No Decision"]
    assert no_decision["closedFlag"] and not no_decision["wonFlag"] and not no_decision["lostFlag"]


def test_activity_statuses(api):
    statuses = {s["id"]: s for s in api.rows("sales/activities/statuses")}
    assert statuses[1]["name"] == "Open" and not statuses[1]["closedFlag"]
    assert statuses[2]["name"] == "Closed" and statuses[2]["closedFlag"]


def test_catalog_item_shape(api):
    item = api.rows("procurement/catalog")[0]
    for key in (
        "identifier",
        "description",
        "customerDescription",
        "price",
        "cost",
        "inactiveFlag",
        "category",
        "subcategory",
        "type",
        "manufacturer",
        "productClass",
        "unitOfMeasure",
        "recurringFlag",
        "taxableFlag",
        "vendor",
    ):
        assert key in item


def test_forecast_is_an_array_of_forecasts_with_items(api):
    opportunity = next(
        o
        for o in api.rows("sales/opportunities", pageSize=1000)
        if api.rows(f"sales/opportunities/{o['id']}/forecast")[0]["forecastItems"]
    )
    forecast = api.rows(f"sales/opportunities/{opportunity['id']}/forecast")
    assert isinstance(forecast, list) and len(forecast) == 1
    items = forecast[0]["forecastItems"]
    assert all(i["opportunity"]["id"] == opportunity["id"] for i in items)
    item = api.rows(f"sales/opportunities/{opportunity['id']}/forecast/{items[0]['id']}")
    assert item == items[0]
    assert api.get("sales/opportunities/999999/forecast").status_code == 404


def test_agreement_additions_and_category_subcategories(api):
    agreement = api.rows("finance/agreements")[0]
    additions = api.rows(f"finance/agreements/{agreement['id']}/additions")
    assert additions and all(a["agreementId"] == agreement["id"] for a in additions)
    assert {"product", "billCustomer", "quantity"} <= set(additions[0])
    category = api.rows("procurement/categories")[0]
    subs = api.rows(f"procurement/categories/{category['id']}/subcategories")
    assert subs and all(s["category"]["id"] == category["id"] for s in subs)


def test_member_by_identifier(api):
    member = api.rows("system/members")[0]
    assert api.rows(f"system/members/{member['identifier']}") == member
    assert api.get("system/members/nobody-here").status_code == 404


def test_system_info_and_callbacks_list(api):
    assert "version" in api.rows("system/info")
    assert api.get("system/callbacks").status_code == 200
