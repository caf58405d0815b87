"""The conditions language: every form over HTTP, count with conditions, malformed input."""

from __future__ import annotations

import pytest

from simulator import conditions as cond
from simulator import predicates


def ids(api, path: str, conditions: str, **params) -> list[int]:
    return [r["id"] for r in api.rows(path, conditions=conditions, pageSize=1000, **params)]


def all_rows(api, path: str) -> list[dict]:
    return api.rows(path, pageSize=1000)


def test_comparison_operators_on_id(api):
    every = [r["id"] for r in all_rows(api, "company/companies")]
    pivot = every[10]
    assert ids(api, "company/companies", f"id = {pivot}") == [pivot]
    assert ids(api, "company/companies", f"id != {pivot}") == [i for i in every if i != pivot]
    assert ids(api, "company/companies", f"id < {pivot}") == [i for i in every if i < pivot]
    assert ids(api, "company/companies", f"id <= {pivot}") == [i for i in every if i <= pivot]
    assert ids(api, "company/companies", f"id > {pivot}") == [i for i in every if i > pivot]
    assert ids(api, "company/companies", f"id >= {pivot}") == [i for i in every if i >= pivot]


def test_strings_contains_like_and_quotes(api):
    rows = all_rows(api, "company/contacts")
    target = next(r for r in rows if r["lastName"] == "Smith" or r["lastName"])
    name = target["lastName"]
    expected = [r["id"] for r in rows if r["lastName"] and r["lastName"].lower() == name.lower()]
    assert ids(api, "company/contacts", f'lastName = "{name}"') == expected
    assert ids(api, "company/contacts", f"lastName = '{name.upper()}'") == expected
    contains = [r["id"] for r in rows if r["lastName"] and "son" in r["lastName"].lower()]
    assert ids(api, "company/contacts", 'lastName contains "son"') == contains
    like = [r["id"] for r in rows if r["lastName"] and r["lastName"].lower().startswith("s")]
    assert ids(api, "company/contacts", 'lastName like "S%"') == like
    assert ids(api, "company/contacts", 'lastName like "s*"') == like
    not_like = [
        r["id"] for r in rows if r["lastName"] and not r["lastName"].lower().startswith("s")
    ]
    assert ids(api, "company/contacts", 'lastName not like "S%"') == not_like
    not_contains = [r["id"] for r in rows if r["lastName"] and "son" not in r["lastName"].lower()]
    assert ids(api, "company/contacts", 'lastName not contains "son"') == not_contains


def test_in_and_not_in(api):
    assert ids(api, "company/companies/types", "id in (1, 2, 4)") == [1, 2, 4]
    every = [r["id"] for r in all_rows(api, "company/companies/types")]
    assert ids(api, "company/companies/types", "id not in (1,2)") == [i for i in every if i > 2]
    assert ids(api, "company/companies/types", 'name in ("Vendor", "Owner")') == [5, 11]


def test_booleans_null_and_and_or_with_parentheses(api):
    rows = all_rows(api, "company/contacts")
    inactive = [r["id"] for r in rows if r["inactiveFlag"]]
    assert ids(api, "company/contacts", "inactiveFlag = true") == inactive
    assert ids(api, "company/contacts", "inactiveFlag = True") == inactive
    active = [r["id"] for r in rows if not r["inactiveFlag"]]
    assert ids(api, "company/contacts", "inactiveFlag=False") == active
    no_title = [r["id"] for r in rows if r["title"] is None]
    assert ids(api, "company/contacts", "title = null") == no_title
    assert ids(api, "company/contacts", "title != null") == [r["id"] for r in rows if r["title"]]
    mixed = [r["id"] for r in rows if (r["inactiveFlag"] and r["title"] is None) or r["id"] < 10]
    got = ids(api, "company/contacts", "(inactiveFlag = true AND title = null) or id < 10")
    assert got == mixed


def test_and_binds_tighter_than_or(api):
    got = ids(api, "company/companies", "id = 2 or id > 2 and id < 2")
    assert got == [2]


def test_reference_paths_and_decimals(api):
    rows = all_rows(api, "company/contacts")
    company_id = next(r["company"]["id"] for r in rows if r["company"])
    expected = [r["id"] for r in rows if r["company"] and r["company"]["id"] == company_id]
    assert ids(api, "company/contacts", f"company/id = {company_id}") == expected
    assert ids(api, "company/contacts", f"COMPANY/ID = {company_id}") == expected
    catalog = all_rows(api, "procurement/catalog")
    cheap = [r["id"] for r in catalog if r["price"] < 100.5]
    assert ids(api, "procurement/catalog", "price < 100.5") == cheap
    companies = all_rows(api, "company/companies")
    active = [r["id"] for r in companies if r["status"]["name"] == "Active"]
    assert ids(api, "company/companies", 'status/name = "Active"') == active


def test_datetimes_and_bare_last_updated(api):
    rows = all_rows(api, "company/contacts")
    pivot = sorted(r["_info"]["lastUpdated"] for r in rows)[100]
    expected = [r["id"] for r in rows if r["_info"]["lastUpdated"] > pivot]
    assert ids(api, "company/contacts", f"lastUpdated > [{pivot}]") == expected
    assert ids(api, "company/contacts", f"_info/lastUpdated > [{pivot}]") == expected
    assert ids(api, "company/contacts", f"LastUpdated > [{pivot}]") == expected
    both = ids(api, "company/contacts", f"lastUpdated >= [{pivot}] AND lastUpdated <= [{pivot}]")
    assert both == [r["id"] for r in rows if r["_info"]["lastUpdated"] == pivot]


def test_count_uses_the_same_conditions(api):
    assert api.rows("company/contacts/count", conditions="inactiveFlag = true") == {
        "count": len(ids(api, "company/contacts", "inactiveFlag = true"))
    }
    assert api.rows("company/contacts/count", conditions="id > 100") == {
        "count": len(ids(api, "company/contacts", "id > 100"))
    }


def test_keyset_condition_with_order(api):
    rows = api.rows("company/contacts", conditions="id > 50", orderBy="id asc", pageSize=10)
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    assert rows[0]["id"] > 50


def test_deleted_flag_condition_on_companies(api):
    rows = all_rows(api, "company/companies")
    assert any(r["deletedFlag"] for r in rows)
    assert ids(api, "company/companies", "deletedFlag=False") == [
        r["id"] for r in rows if not r["deletedFlag"]
    ]


@pytest.mark.parametrize(
    "bad",
    [
        "name =",
        "id > ",
        "(id > 1",
        "id > 1)",
        'name = "open',
        "id >> 3",
        "name is 3",
        "id in 1,2",
        "id in (1,",
        "lastUpdated > [not-a-date]",
        "nosuchfield = 1",
        "and id = 1",
        "id = 1 and",
        "flag = true = false",
        "id = 1 xor id = 2",
        "inactiveFlag > true",
    ],
)
def test_malformed_conditions_are_400(api, bad):
    response = api.get("company/contacts", conditions=bad)
    assert response.status_code == 400, bad
    body = response.json()
    assert body["code"] == "InvalidObject" and "conditions" in body["message"]


def test_parser_reports_position():
    with pytest.raises(cond.ConditionError, match="position"):
        cond.parse("id = 1 and )")


def test_like_pattern_translation():
    regex = predicates.like_regex("a%b*c")
    assert regex.fullmatch("AxxBc") and not regex.fullmatch("ab")
