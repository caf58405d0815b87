"""A tenant's own setup values: new opportunity statuses, used by records, seen by counts.

The product's preflight counts the records that use a setup value its mapping does not cover
(``GET …/count`` with ``conditions`` or, for array members, ``childConditions``); these tests
pin the simulator behaviour those counts rely on.
"""

from __future__ import annotations


def test_a_new_opportunity_status_can_be_created_and_given_to_opportunities(api):
    created = api.post("sales/opportunities/statuses", {"name": "Pending Review"})
    assert created.status_code == 201, created.text
    status = created.json()
    assert status["name"] == "Pending Review" and not status["closedFlag"]
    assert status in api.rows("sales/opportunities/statuses")
    opportunity = api.rows("sales/opportunities", pageSize=1)[0]
    change = [{"op": "replace", "path": "status", "value": {"id": status["id"]}}]
    patched = api.patch(f"sales/opportunities/{opportunity['id']}", change)
    assert patched.status_code == 200, patched.text
    assert patched.json()["status"]["name"] == "Pending Review"


def test_a_status_name_is_required_and_at_most_30_characters(api):
    missing = api.post("sales/opportunities/statuses", {"closedFlag": True})
    assert missing.status_code == 400
    assert [error["field"] for error in missing.json()["errors"]] == ["name"]
    too_long = api.post("sales/opportunities/statuses", {"name": "x" * 31})
    assert too_long.status_code == 400
    assert [error["field"] for error in too_long.json()["errors"]] == ["name"]


def test_count_by_status_name_sees_the_opportunities_given_a_new_status(api):
    status = api.post("sales/opportunities/statuses", {"name": "Pending Review"}).json()
    chosen = [row["id"] for row in api.rows("sales/opportunities", pageSize=3, fields="id")]
    for opportunity_id in chosen:
        change = [{"op": "replace", "path": "status", "value": {"id": status["id"]}}]
        assert api.patch(f"sales/opportunities/{opportunity_id}", change).status_code == 200
    counted = api.rows("sales/opportunities/count", conditions='status/name = "Pending Review"')
    assert counted == {"count": 3}


def test_count_with_child_conditions_matches_companies_by_one_of_their_types(api):
    vendors = [
        company["id"]
        for company in api.rows("company/companies", pageSize=1000)
        if any(kind["name"] == "Vendor" for kind in company["types"])
    ]
    counted = api.rows("company/companies/count", childConditions='types/name = "Vendor"')
    assert vendors and counted == {"count": len(vendors)}


def test_count_of_recurring_items_by_bill_cycle_name(api):
    item = api.rows("procurement/catalog", pageSize=1, conditions="recurringFlag = true")[0]
    change = [{"op": "replace", "path": "recurringBillCycle", "value": {"id": 1}}]
    patched = api.patch(f"procurement/catalog/{item['id']}", change)
    assert patched.status_code == 200 and patched.json()["recurringBillCycle"]["name"] == "Weekly"
    condition = 'recurringFlag = true and recurringBillCycle/name = "Weekly"'
    assert api.rows("procurement/catalog/count", conditions=condition) == {"count": 1}
