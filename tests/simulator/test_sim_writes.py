"""POST / PUT / PATCH / DELETE on every writable entity, validation errors, lastUpdated."""

from __future__ import annotations

import time

import pytest

NEW_BODIES = {
    "company/contacts": {
        "firstName": "Estella",
        "lastName": "Mcdowell",
        "company": {"id": 3},
        "communicationItems": [
            {
                "type": {"id": 1},
                "value": "e@x.example",
                "defaultFlag": True,
                "communicationType": "Email",
            }
        ],
    },
    "company/companies": {
        "identifier": "NEWCO",
        "name": "New Co",
        "addressLine1": "1 Main St",
        "status": {"id": 1},
        "types": [{"id": 2}, {"id": 11}],
    },
    "sales/activities": {
        "name": "Call back",
        "assignTo": {"identifier": "admin"},
        "type": {"id": 1},
        "company": {"id": 3},
    },
    "sales/opportunities": {
        "name": "New deal",
        "primarySalesRep": {"identifier": "admin"},
        "company": {"id": 3},
        "contact": {"id": 2},
        "expectedCloseDate": "2024-03-31T00:00:00Z",
    },
    "finance/agreements": {
        "name": "Gold",
        "type": {"id": 1},
        "company": {"id": 3},
        "contact": {"id": 2},
    },
    "procurement/catalog": {
        "identifier": "LIC-M365",
        "description": "M365 Business Premium",
        "subcategory": {"id": 1},
        "type": {"id": 2},
        "customerDescription": "per user/month",
        "price": 22.0,
    },
    "procurement/manufacturers": {"name": "New Maker"},
}
CHANGE = {
    "company/contacts": ("title", "CTO"),
    "company/companies": ("phoneNumber", "8135550000"),
    "sales/activities": ("notes", "Spoke"),
    "sales/opportunities": ("notes", "Hot"),
    "finance/agreements": ("billAmount", 99.0),
    "procurement/catalog": ("price", 9.5),
    "procurement/manufacturers": ("inactiveFlag", True),
}


@pytest.mark.parametrize("path", list(NEW_BODIES))
def test_create_get_patch_put_delete(api, path):
    created = api.post(path, NEW_BODIES[path])
    assert created.status_code == 201, created.text
    record = created.json()
    assert record["id"] > 0 and record["_info"]["dateEntered"]
    assert api.rows(f"{path}/{record['id']}") == record
    field, value = CHANGE[path]
    change = [{"op": "replace", "path": field, "value": value}]
    patched = api.patch(f"{path}/{record['id']}", change)
    assert patched.status_code == 200, patched.text
    assert patched.json()[field] == value
    replaced = api.put(f"{path}/{record['id']}", NEW_BODIES[path])
    assert replaced.status_code == 200, replaced.text
    deleted = api.delete(f"{path}/{record['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    after = api.get(f"{path}/{record['id']}")
    if path == "company/companies":
        assert after.json()["deletedFlag"] is True and after.json()["dateDeleted"]
    else:
        assert after.status_code == 404


def test_post_resolves_references(api):
    record = api.post("company/contacts", NEW_BODIES["company/contacts"]).json()
    assert record["company"]["name"] and record["company"]["identifier"]
    item = record["communicationItems"][0]
    assert item["type"] == {"id": 1, "name": "Email"} and item["domain"] == "@x.example"
    company = api.post("company/companies", NEW_BODIES["company/companies"]).json()
    assert [t["name"] for t in company["types"]] == ["Customer", "Vendor"]


def test_put_resets_omitted_fields(api):
    record = api.post("company/contacts", dict(NEW_BODIES["company/contacts"], title="CEO")).json()
    replaced = api.put(f"company/contacts/{record['id']}", {"firstName": "Only"}).json()
    assert replaced["title"] is None and replaced["company"] is None
    assert replaced["firstName"] == "Only"


def test_patch_paths_with_and_without_slash_and_indexes(api):
    record = api.post("company/contacts", NEW_BODIES["company/contacts"]).json()
    path = f"company/contacts/{record['id']}"
    ops = [
        {"op": "replace", "path": "/communicationItems/0/value", "value": "new@x.example"},
        {
            "op": "add",
            "path": "/communicationItems/1",
            "value": {"type": {"id": 2}, "value": "8135551234", "communicationType": "Phone"},
        },
        {"op": "replace", "path": "lastName", "value": "Renamed"},
        {"op": "remove", "path": "title"},
    ]
    patched = api.patch(path, ops).json()
    assert patched["communicationItems"][0]["value"] == "new@x.example"
    assert patched["communicationItems"][1]["value"] == "8135551234"
    assert patched["lastName"] == "Renamed"
    removed = api.patch(path, [{"op": "remove", "path": "/communicationItems/0"}]).json()
    assert [i["value"] for i in removed["communicationItems"]] == ["8135551234"]


def test_patch_reference_by_id(api):
    activity = api.post("sales/activities", NEW_BODIES["sales/activities"]).json()
    assert activity["status"]["name"] == "Open"
    closed = api.patch(
        f"sales/activities/{activity['id']}",
        [{"op": "replace", "path": "status", "value": {"id": 2}}],
    ).json()
    assert closed["status"]["name"] == "Closed"


def test_patch_custom_fields_merges_by_id(api):
    contact = api.rows("company/contacts/2")
    patched = api.patch(
        "company/contacts/2",
        [{"op": "replace", "path": "customFields", "value": [{"id": 17, "value": "Patty"}]}],
    ).json()
    values = {f["id"]: f["value"] for f in patched["customFields"]}
    assert values[17] == "Patty"
    assert values[15] == next(f["value"] for f in contact["customFields"] if f["id"] == 15)


@pytest.mark.parametrize(
    "bad",
    [
        {"op": "replace", "path": "lastName", "value": "x"},  # not an array
        [{"op": "move", "path": "lastName", "value": "x"}],
        [{"op": "replace", "path": "LASTNAME", "value": "x"}],  # paths are case-sensitive
        [{"op": "replace", "path": "/communicationItems/99/value", "value": "x"}],
        [{"op": "replace", "path": "lastName"}],
        [],
        ["not an object"],
    ],
)
def test_malformed_patch_is_400(api, bad):
    response = api.patch("company/contacts/2", bad)
    assert response.status_code == 400, bad


def test_last_updated_moves_on_every_write(api):
    before = api.rows("company/contacts/2")["_info"]["lastUpdated"]
    change = [{"op": "replace", "path": "title", "value": "X"}]
    after = api.patch("company/contacts/2", change).json()
    assert after["_info"]["lastUpdated"] > before
    assert after["_info"]["updatedBy"] == "SyncAPI"
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 5))
    assert after["_info"]["lastUpdated"] >= stamp and len(after["_info"]["lastUpdated"]) == 20


def test_missing_required_field_is_the_real_error_body(api):
    response = api.post("company/contacts", {"lastName": "NoFirst"})
    assert response.status_code == 400
    assert response.json() == {
        "code": "InvalidObject",
        "message": "contact object is invalid",
        "errors": [
            {
                "code": "MissingRequiredField",
                "message": "The firstName field is required.",
                "resource": "contact",
                "field": "firstName",
            }
        ],
    }


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("company/companies", {"identifier": "A", "name": "B"}, "addressLine1"),
        ("company/companies", {"name": "B", "city": "Tampa"}, "identifier"),
        ("sales/activities", {"name": "x"}, "assignTo"),
        (
            "sales/opportunities",
            {"name": "x", "company": {"id": 3}, "contact": {"id": 2}},
            "primarySalesRep",
        ),
        ("finance/agreements", {"name": "x", "company": {"id": 3}, "contact": {"id": 2}}, "type"),
        ("procurement/catalog", {"identifier": "x", "description": "y"}, "subcategory"),
    ],
)
def test_required_fields_per_entity(api, path, body, field):
    response = api.post(path, body)
    assert response.status_code == 400
    assert field in [e["field"] for e in response.json()["errors"]]


def test_too_long_value_is_rejected(api):
    body = dict(NEW_BODIES["sales/opportunities"], name="x" * 101)
    response = api.post("sales/opportunities", body)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == "name" and "100" in error["message"]
    catalog = dict(NEW_BODIES["procurement/catalog"], description="d" * 61)
    assert api.post("procurement/catalog", catalog).status_code == 400


def test_unknown_reference_is_invalid_object_naming_the_field(api):
    body = dict(NEW_BODIES["company/contacts"], company={"id": 999999})
    response = api.post("company/contacts", body)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "InvalidObject"
    assert body["errors"][0]["field"] == "company" and "999999" in body["errors"][0]["message"]


def test_duplicate_company_identifier_is_rejected(api):
    existing = api.rows("company/companies/3")["identifier"]
    body = dict(NEW_BODIES["company/companies"], identifier=existing)
    response = api.post("company/companies", body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "ObjectExists"


def test_forecast_items_crud(api):
    opportunity = api.post("sales/opportunities", NEW_BODIES["sales/opportunities"]).json()
    base = f"sales/opportunities/{opportunity['id']}/forecast"
    created = api.post(
        base,
        {
            "forecastDescription": "Licences",
            "status": {"id": 1},
            "forecastType": "Product",
            "revenue": 100.0,
            "cost": 60.0,
        },
    )
    assert created.status_code == 201, created.text
    forecast = created.json()
    item = forecast["forecastItems"][0]
    assert item["opportunity"]["id"] == opportunity["id"]
    assert forecast["forecastRevenueTotals"]["revenue"] == 100.0
    change = [{"op": "replace", "path": "revenue", "value": 5.0}]
    patched = api.patch(f"{base}/{item['id']}", change)
    assert patched.json()["revenue"] == 5.0
    assert api.post(base, {"status": {"id": 1}, "forecastType": "Bogus"}).status_code == 400
    assert api.delete(f"{base}/{item['id']}").status_code == 204
    assert api.rows(base)[0]["forecastItems"] == []


def test_agreement_additions_crud_and_cascade(api):
    agreement = api.post("finance/agreements", NEW_BODIES["finance/agreements"]).json()
    base = f"finance/agreements/{agreement['id']}/additions"
    product = api.rows("procurement/catalog")[0]
    created = api.post(
        base,
        {
            "product": {"id": product["id"]},
            "billCustomer": "Billable",
            "quantity": 5,
            "unitPrice": 22.0,
        },
    )
    assert created.status_code == 201, created.text
    addition = created.json()
    assert addition["agreementId"] == agreement["id"]
    assert addition["product"]["identifier"] == product["identifier"]
    missing = api.post(base, {"quantity": 1})
    assert {e["field"] for e in missing.json()["errors"]} == {"product", "billCustomer"}
    assert (
        api.put(
            f"{base}/{addition['id']}",
            {"product": {"id": product["id"]}, "billCustomer": "NoCharge"},
        ).status_code
        == 200
    )
    assert api.delete(f"finance/agreements/{agreement['id']}").status_code == 204
    assert api.get(f"{base}/{addition['id']}").status_code == 404


def test_writes_on_read_only_entities_are_405(api):
    assert api.post("system/members", {"identifier": "x"}).status_code == 405
    assert api.delete("company/companies/statuses/1").status_code == 405


def test_invalid_json_body_is_400(api):
    response = api.request(
        "POST", "company/contacts", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_concurrent_writes_are_all_applied(api, sim):
    from concurrent.futures import ThreadPoolExecutor

    def create(n: int) -> int:
        return api.post("company/contacts", {"firstName": f"C{n}"}).json()["id"]

    with ThreadPoolExecutor(8) as pool:
        created = list(pool.map(create, range(40)))
    assert len(set(created)) == 40
    truth_ids = {r["id"] for r in sim.truth("company/contacts")}
    assert set(created) <= truth_ids
