"""fields, orderBy, childConditions and customFieldConditions."""

from __future__ import annotations


def test_fields_partial_response_with_nested_paths(api):
    rows = api.rows("company/companies", fields="id,name,status/id", pageSize=5)
    assert all(set(r) == {"id", "name", "status"} for r in rows)
    assert all(set(r["status"]) == {"id"} for r in rows)


def test_fields_on_get_by_id_and_arrays(api):
    record = api.rows("company/contacts/2", fields="id,communicationItems/value")
    assert set(record) == {"id", "communicationItems"}
    assert all(set(i) == {"value"} for i in record["communicationItems"])


def test_fields_include_info_last_updated(api):
    rows = api.rows("company/contacts", fields="id,_info/lastUpdated", pageSize=3)
    assert all(set(r["_info"]) == {"lastUpdated"} for r in rows)


def test_order_by_asc_desc_and_nested(api):
    rows = api.rows("company/companies", orderBy="name desc", pageSize=1000)
    names = [r["name"].casefold() for r in rows]
    assert names == sorted(names, reverse=True)
    rows = api.rows("company/companies", orderBy="status/name asc", pageSize=1000)
    statuses = [r["status"]["name"].casefold() for r in rows]
    assert statuses == sorted(statuses)
    rows = api.rows("company/companies", orderBy="id desc", pageSize=5)
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)


def test_order_by_pages_are_consistent(api):
    first = api.rows("company/contacts", orderBy="lastName asc", pageSize=100, page=1)
    second = api.rows("company/contacts", orderBy="lastName asc", pageSize=100, page=2)
    assert not {r["id"] for r in first} & {r["id"] for r in second}


def test_bad_order_by_is_400(api):
    assert api.get("company/contacts", orderBy="lastName sideways").status_code == 400
    assert api.get("company/contacts", orderBy="nosuch asc").status_code == 400


def _emails(contact):
    return [i for i in contact["communicationItems"] if i["communicationType"] == "Email"]


def test_child_conditions_apply_to_one_array_element(api):
    contacts = api.rows("company/contacts", pageSize=1000)
    target = next(c for c in contacts if _emails(c))
    email = _emails(target)[0]["value"]
    prefix = email.split("@")[0][:4]
    condition = (
        f'communicationItems/value like "{prefix}%" AND '
        f'communicationItems/communicationType="Email"'
    )
    rows = api.rows("company/contacts", childConditions=condition, pageSize=1000)
    expected = [
        c["id"]
        for c in contacts
        if any(i["value"].lower().startswith(prefix.lower()) for i in _emails(c))
    ]
    assert [r["id"] for r in rows] == expected and target["id"] in expected


def test_child_conditions_do_not_mix_elements(api):
    contacts = api.rows("company/contacts", pageSize=1000)
    phone_owner = next(
        c
        for c in contacts
        if _emails(c) and any(i["communicationType"] == "Phone" for i in c["communicationItems"])
    )
    phone = next(
        i["value"] for i in phone_owner["communicationItems"] if i["communicationType"] == "Phone"
    )
    condition = (
        f'communicationItems/value = "{phone}" AND communicationItems/communicationType = "Email"'
    )
    rows = api.rows("company/contacts", childConditions=condition)
    assert phone_owner["id"] not in [r["id"] for r in rows]


def test_child_conditions_refuse_in(api):
    response = api.get("company/contacts", childConditions='communicationItems/value in ("a")')
    assert response.status_code == 400


def test_custom_field_conditions(api):
    contacts = api.rows("company/contacts", pageSize=1000)

    def value(contact, caption):
        return next(f["value"] for f in contact["customFields"] if f["caption"] == caption)

    with_id = [c["id"] for c in contacts if value(c, "hubspot_contact_id") is not None]
    rows = api.rows(
        "company/contacts",
        pageSize=1000,
        customFieldConditions='caption="hubspot_contact_id" AND value != null',
    )
    assert [r["id"] for r in rows] == with_id and with_id
    one = next(c for c in contacts if c["id"] == with_id[0])
    wanted = value(one, "hubspot_contact_id")
    rows = api.rows(
        "company/contacts",
        customFieldConditions=f'caption = "hubspot_contact_id" AND value = {wanted}',
    )
    assert one["id"] in [r["id"] for r in rows]


def test_custom_field_conditions_on_checkbox(api):
    rows = api.rows(
        "company/contacts",
        pageSize=1000,
        customFieldConditions='caption="Newsletter" AND value = true',
    )
    assert rows
    assert all(
        any(f["caption"] == "Newsletter" and f["value"] is True for f in r["customFields"])
        for r in rows
    )
