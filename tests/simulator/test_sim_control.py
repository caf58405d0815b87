"""The /_sim control API: shapes, validation, stats, mutation, truth, reset."""

from __future__ import annotations

import requests


def _put(sim, path: str, body) -> requests.Response:
    return requests.put(f"{sim.base_url}{path}", json=body, timeout=10)


def test_health_shape(sim):
    assert sim.health() == {"ok": True, "scale": "small", "codebase": "v2025_1/"}


def test_stats_shape_and_endpoint_keys(sim, api):
    sim.reset_stats()
    api.get("company/contacts")
    api.get("company/contacts/2")
    api.get("company/contacts/count")
    api.get("company/contacts/999999")
    stats = sim.stats()
    assert set(stats) == {
        "requests_total",
        "by_endpoint",
        "by_status",
        "throttled",
        "faults",
        "callbacks",
    }
    assert stats["by_endpoint"] == {
        "GET company/contacts": 1,
        "GET company/contacts/{id}": 2,
        "GET company/contacts/count": 1,
    }
    assert stats["by_status"] == {"200": 3, "404": 1}
    assert stats["requests_total"] == 4
    assert stats["faults"] == {
        "5xx": 0,
        "truncated": 0,
        "hang": 0,
        "lost_write": 0,
        "write_5xx": 0,
    }
    assert stats["callbacks"] == {"delivered": 0, "failed": 0, "attempts": 0}
    sim.reset_stats()
    assert sim.stats()["requests_total"] == 0


def test_child_endpoint_keys(sim, api):
    sim.reset_stats()
    api.get("finance/agreements/1/additions")
    assert "GET finance/agreements/{id}/additions" in sim.stats()["by_endpoint"]


def test_faults_get_put_and_validation(sim):
    faults = requests.get(f"{sim.base_url}/_sim/faults", timeout=10).json()
    assert faults == {
        "latency_ms": 0,
        "error_rate": 0.0,
        "throttle_per_minute": None,
        "throttle_window_seconds": 60.0,
        "retry_after_seconds": 1,
        "truncate_rate": 0.0,
        "hang_rate": 0.0,
        "hang_seconds": 30.0,
        "lost_write_responses": 0,
        "write_errors_before": 0,
        "write_errors_after": 0,
        "write_error_status": 502,
        "seed": 1,
    }
    assert _put(sim, "/_sim/faults", {"latency_ms": 5}).json()["latency_ms"] == 5
    assert _put(sim, "/_sim/faults", {"bogus": 1}).status_code == 400
    assert _put(sim, "/_sim/faults", {"error_rate": 2}).status_code == 400
    assert _put(sim, "/_sim/faults", {"write_error_status": 404}).status_code == 400
    assert _put(sim, "/_sim/faults", {"throttle_per_minute": None}).status_code == 200


def test_auth_get_put_and_validation(sim):
    auth = requests.get(f"{sim.base_url}/_sim/auth", timeout=10).json()
    assert auth["company_id"] == "acme" and auth["public_key"] == "acme-public"
    assert auth["private_key"] == "acme-private-s3cret"
    assert auth["client_id"] == "b2e0c3a4-1111-4222-8333-944455556666"
    assert auth["denied_modules"] == [] and auth["hidden_tables"] == []
    assert _put(sim, "/_sim/auth", {"denied_modules": ["Nope"]}).status_code == 400
    assert _put(sim, "/_sim/auth", {"hidden_tables": ["Nope"]}).status_code == 400
    assert _put(sim, "/_sim/auth", {"colour": "red"}).status_code == 400
    assert _put(sim, "/_sim/auth", {"hidden_tables": ["SLA"]}).status_code == 200


def test_callback_settings_validation(sim):
    ok = _put(sim, "/_sim/callbacks/settings", {"retry_delay_scale": 0.5})
    assert ok.json() == {"retry_delay_scale": 0.5, "disable_after_failures": 20}
    assert _put(sim, "/_sim/callbacks/settings", {"x": 1}).status_code == 400


def test_mutate_now_updates_truth_and_api(sim, api):
    before = {r["id"]: r for r in sim.truth("company/contacts")}
    plan = sim.mutate("company/contacts", create=3, update=2, delete=2, seed=9)
    assert len(plan["created"]) == 3 and len(plan["updated"]) == 2 and len(plan["deleted"]) == 2
    after = {r["id"]: r for r in sim.truth("company/contacts")}
    assert set(plan["created"]) <= set(after) and not set(plan["deleted"]) & set(after)
    for record_id in plan["updated"]:
        assert after[record_id]["_info"]["lastUpdated"] > before[record_id]["_info"]["lastUpdated"]
        assert after[record_id]["_info"]["updatedBy"] == "admin"
    assert api.get("company/contacts/count").json()["count"] == len(after)
    assert min(plan["created"]) > max(before)


def test_mutate_reports_refused_steps_apart_from_the_applied_ones(sim):
    # Companies whose default contact is gone cannot be updated: those steps are refused.
    contacts = sim.truth("company/contacts")
    sim.mutate("company/contacts", delete=len(contacts) // 2, seed=2)
    before = {r["id"]: r for r in sim.truth("company/companies")}
    plan = sim.mutate("company/companies", update=len(before) - 2, seed=3)
    assert plan["refused"], "no step was refused: the scenario no longer provokes one"
    assert not set(plan["refused"]) & set(plan["updated"])
    after = {r["id"]: r for r in sim.truth("company/companies")}
    for record_id in plan["updated"]:
        assert after[record_id]["_info"]["lastUpdated"] > before[record_id]["_info"]["lastUpdated"]
    for record_id in plan["refused"]:
        assert after[record_id] == before[record_id]


def test_mutate_spread_runs_in_background(sim):
    plan = sim.mutate(
        "procurement/catalog", create=4, update=4, delete=2, spread_seconds=0.5, seed=4
    )
    assert sim.mutations_idle() is False
    sim.wait_mutations_idle(10)
    truth = {r["id"] for r in sim.truth("procurement/catalog")}
    assert set(plan["created"]) <= truth and not set(plan["deleted"]) & truth


def test_mutate_supported_paths(sim):
    for path in (
        "company/companies",
        "company/contacts",
        "procurement/catalog",
        "sales/opportunities",
        "finance/agreements",
        "sales/activities",
        "procurement/manufacturers",
        "procurement/categories",
        "company/companies/types",
    ):
        plan = sim.mutate(path, create=1, update=1, delete=1, seed=1)
        assert len(plan["created"]) == 1, path


def test_company_mutation_delete_is_soft(sim):
    plan = sim.mutate("company/companies", delete=1, seed=3)
    truth = {r["id"]: r for r in sim.truth("company/companies")}
    assert truth[plan["deleted"][0]]["deletedFlag"] is True


def test_mutate_validation(sim):
    url = f"{sim.base_url}/_sim/mutate"
    unknown = requests.post(url, json={"path": "nope/nope", "create": 1}, timeout=10)
    assert unknown.status_code == 400
    assert (
        requests.post(url, json={"path": "company/contacts", "create": -1}, timeout=10).status_code
        == 400
    )
    assert (
        requests.post(
            url, json={"path": "company/contacts", "delete": 10**6}, timeout=10
        ).status_code
        == 400
    )


def test_truth_includes_soft_deleted_companies(sim):
    rows = sim.truth("company/companies")
    assert len(rows) == 50 and any(r["deletedFlag"] for r in rows)
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    assert (
        requests.get(f"{sim.base_url}/_sim/truth", params={"path": "x"}, timeout=10).status_code
        == 400
    )


def test_reset_restores_data_faults_and_callbacks(sim, api):
    api.post(
        "system/callbacks",
        {"url": "https://e.example/h", "objectId": 1, "type": "contact", "level": "owner"},
    )
    sim.mutate("company/contacts", create=5, seed=1)
    sim.set_faults(latency_ms=3)
    sim.set_auth(denied_modules=["Sales"])
    sim.reset()
    assert len(sim.truth("company/contacts")) == 250
    assert sim.truth("system/callbacks") == []
    assert requests.get(f"{sim.base_url}/_sim/faults", timeout=10).json()["latency_ms"] == 0
    assert api.get("sales/opportunities").status_code == 200
    assert sim.stats()["requests_total"] == 1
