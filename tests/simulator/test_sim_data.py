"""Generator determinism, scale sizes and data mess."""

from __future__ import annotations

import json

from simulator.generator import generate

SMALL = generate("small", 1)


def _dump(data) -> str:
    return json.dumps(data, sort_keys=False, ensure_ascii=False)


def test_same_seed_gives_identical_bytes():
    assert _dump(generate("small", 1)) == _dump(SMALL)


def test_different_seed_differs():
    assert _dump(generate("small", 2)) != _dump(SMALL)


def test_small_sizes():
    counts = {k: len(v) for k, v in SMALL.items()}
    assert counts["company/companies"] == 50 and counts["company/contacts"] == 250
    assert counts["procurement/catalog"] == 200
    assert 10 <= counts["system/members"] <= 50


def test_medium_sizes():
    data = generate("medium", 1)
    assert len(data["company/companies"]) == 1000
    assert len(data["company/contacts"]) == 5000
    assert len(data["procurement/catalog"]) == 5000


def test_large_sizes():
    data = generate("large", 1)
    expected = {
        "company/companies": 5000,
        "company/contacts": 25000,
        "procurement/catalog": 20000,
        "procurement/manufacturers": 300,
        "procurement/categories": 60,
        "procurement/subcategories": 300,
        "sales/opportunities": 8000,
        "finance/agreements": 2000,
    }
    assert {k: len(data[k]) for k in expected} == expected


def test_ids_have_gaps_and_are_sorted():
    ids = [c["id"] for c in SMALL["company/contacts"]]
    assert ids == sorted(ids) and ids[-1] - ids[0] + 1 > len(ids)


def test_realistic_mess_is_present():
    contacts, companies = SMALL["company/contacts"], SMALL["company/companies"]
    emails = [
        i["value"]
        for c in contacts
        for i in c["communicationItems"]
        if i["communicationType"] == "Email"
    ]
    assert len(emails) > len(set(emails))  # duplicate e-mails across companies
    assert any(
        not any(i["communicationType"] == "Email" for i in c["communicationItems"])
        for c in contacts
    )
    assert any(not (c["firstName"] or "").isascii() for c in contacts)
    assert any(c["inactiveFlag"] for c in contacts)
    assert any(c["deletedFlag"] for c in companies)
    assert any(len(c["types"]) > 1 for c in companies)
    categories = {c["id"]: c for c in SMALL["procurement/categories"]}
    catalog = SMALL["procurement/catalog"]
    assert any(categories[i["category"]["id"]]["inactiveFlag"] for i in catalog)
    assert all(i["price"] >= 0 for i in SMALL["procurement/catalog"])
    assert all(len(c["firstName"]) <= 30 for c in contacts)
    assert all(len(c["name"]) <= 156 for c in companies)


def test_seeded_timestamps_do_not_use_the_wall_clock():
    stamps = [c["_info"]["lastUpdated"] for c in SMALL["company/contacts"]]
    assert max(stamps) < "2025-01-02T00:00:00Z"
    infos = [c["_info"] for c in SMALL["company/contacts"]]
    assert all(i["dateEntered"] <= i["lastUpdated"] for i in infos)
