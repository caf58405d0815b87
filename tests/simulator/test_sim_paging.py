"""Page-number paging with Link headers, and forward-only paging."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

LINK = re.compile(r'<([^>]+)>; rel="(\w+)"')


def links(response) -> dict[str, str]:
    return {rel: url for url, rel in LINK.findall(response.headers.get("Link", ""))}


def test_default_page_size_is_25(api):
    response = api.get("company/contacts")
    assert len(response.json()) == 25
    assert set(links(response)) == {"next", "last"}


def test_link_header_has_first_prev_next_last_with_page_last(api):
    response = api.get("company/contacts", pageSize=50, page=2)
    found = links(response)
    assert set(found) == {"first", "prev", "next", "last"}
    for rel, url in found.items():
        query = parse_qsl(urlsplit(url).query)
        assert query[-1][0] == "page", rel  # PYCW's regex needs page= just before '>'
        assert ("pageSize", "50") in query
    assert found["first"].endswith("page=1")
    assert found["prev"].endswith("page=1")
    assert found["next"].endswith("page=3")
    assert found["last"].endswith("page=5")  # 250 contacts / 50


def test_following_next_links_reads_everything_once(api):
    url, seen = api.url("company/contacts") + "?pageSize=40&conditions=id%3E0", []
    while url:
        response = api.session.get(url, timeout=10)
        seen += [r["id"] for r in response.json()]
        url = links(response).get("next")
    assert len(seen) == 250 == len(set(seen))


def test_last_page_has_no_next(api):
    response = api.get("company/contacts", pageSize=100, page=3)
    assert len(response.json()) == 50
    assert set(links(response)) == {"first", "prev"}


def test_page_size_is_clamped_at_1000(sim, api):
    sim.mutate("company/contacts", create=800, seed=3)
    assert len(api.rows("company/contacts", pageSize=5000)) == 1000


def test_past_the_end_is_an_empty_array(api):
    assert api.rows("company/contacts", pageSize=100, page=9) == []


def test_bad_page_parameter_is_400(api):
    assert api.get("company/contacts", page="two").status_code == 400


def _forward(api, **params):
    return api.request(
        "GET", "company/contacts", params=params, headers={"pagination-type": "forward-only"}
    )


def test_forward_only_orders_by_id_and_links_next_page_id(api):
    response = _forward(api, pageSize=100)
    rows = response.json()
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    next_url = links(response)["next"]
    assert parse_qsl(urlsplit(next_url).query)[-1] == ("pageId", str(rows[-1]["id"]))


def test_forward_only_page_id_means_id_greater_than(api):
    rows = _forward(api, pageSize=10, pageId=100).json()
    assert rows and min(r["id"] for r in rows) > 100


def test_forward_only_walk_ends_without_link(api):
    url, total, params = api.url("company/contacts"), 0, {"pageSize": 100}
    while True:
        response = api.session.get(
            url, params=params, timeout=10, headers={"pagination-type": "forward-only"}
        )
        total += len(response.json())
        url, params = links(response).get("next"), None
        if not url:
            break
    assert total == 250
    assert "Link" not in response.headers


def test_forward_only_refuses_order_by(api):
    response = _forward(api, orderBy="lastName asc")
    assert response.status_code == 400
    assert "orderBy" in response.json()["message"]


def test_forward_only_with_conditions(api):
    rows = _forward(api, pageSize=1000, conditions="inactiveFlag = true").json()
    assert rows and all(r["inactiveFlag"] for r in rows)
