"""Injected faults: latency, 5xx, throttling, truncation, hangs, lost write responses."""

from __future__ import annotations

import json
import time

import pytest
import requests


def test_latency_is_added(sim, api):
    api.get("company/companies/count")
    start = time.perf_counter()
    api.get("company/companies/count")
    fast = time.perf_counter() - start
    sim.set_faults(latency_ms=150)
    start = time.perf_counter()
    api.get("company/companies/count")
    assert time.perf_counter() - start >= 0.15 > fast


def test_error_rate_gives_5xx_and_is_counted(sim, api):
    sim.set_faults(error_rate=1.0)
    statuses = {api.get("company/companies").status_code for _ in range(8)}
    assert statuses <= {500, 502, 503} and 500 in statuses
    assert sim.stats()["faults"]["5xx"] == 8
    sim.set_faults(error_rate=0.0)
    assert api.get("company/companies").status_code == 200


def test_faults_only_apply_to_the_api(sim):
    sim.set_faults(error_rate=1.0)
    assert requests.get(f"{sim.base_url}/login/companyinfo/acme", timeout=10).status_code == 200
    assert sim.health()["ok"] is True


def test_error_rate_is_seeded(sim, api):
    def run() -> list[int]:
        sim.set_faults(error_rate=0.5, seed=42)
        return [api.get("company/companies/count").status_code for _ in range(12)]

    assert run() == run()


def test_throttle_answers_429_with_retry_after(sim, api):
    sim.set_faults(throttle_per_minute=3, retry_after_seconds=7)
    statuses = [api.get("company/companies/count").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    response = api.get("company/companies/count")
    assert response.headers["Retry-After"] == "7"
    assert response.json() == {
        "error": "ConnectWiseAPI",
        "message": "Too many requests. Please try again in 7 seconds.",
    }
    assert sim.stats()["throttled"] == 3


def test_throttle_window_can_be_shortened(sim, api):
    sim.set_faults(throttle_per_minute=2, throttle_window_seconds=0.3)
    statuses = [api.get("company/companies/count").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    time.sleep(0.35)
    assert api.get("company/companies/count").status_code == 200


def test_throttle_is_per_credentials(sim, api):
    sim.set_faults(throttle_per_minute=1)
    assert api.get("company/companies/count").status_code == 200
    assert api.get("company/companies/count").status_code == 429
    other = requests.get(
        api.url("company/companies/count"),
        auth=("acme+x", "y"),
        headers={"clientId": sim.client_id},
        timeout=10,
    )
    assert other.status_code == 401  # counted separately, so not throttled


def test_truncated_body_keeps_status_and_length_but_is_bad_json(sim, api):
    sim.set_faults(truncate_rate=1.0)
    response = api.get("company/contacts")
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert sim.stats()["faults"]["truncated"] == 1


def test_hang_outlasts_client_timeout(sim, api):
    sim.set_faults(hang_rate=1.0, hang_seconds=1.5)
    with pytest.raises(requests.Timeout):
        api.request("GET", "company/companies/count", timeout=0.3)
    sim.set_faults(hang_rate=0.0)
    assert api.get("company/companies/count").status_code == 200
    assert sim.stats()["faults"]["hang"] == 1


def test_hang_shorter_than_timeout_answers(sim, api):
    sim.set_faults(hang_rate=1.0, hang_seconds=0.2)
    assert api.request("GET", "company/companies/count", timeout=5).status_code == 200


def test_lost_write_response_commits_the_record(sim, api):
    sim.set_faults(lost_write_responses=1)
    with pytest.raises(requests.exceptions.RequestException):
        api.post("company/contacts", {"firstName": "Ghost"})
    assert [r for r in sim.truth("company/contacts") if r["firstName"] == "Ghost"]
    assert sim.stats()["faults"]["lost_write"] == 1
    assert api.post("company/contacts", {"firstName": "Seen"}).status_code == 201


def test_lost_write_applies_to_patch(sim, api):
    sim.set_faults(lost_write_responses=1)
    with pytest.raises(requests.exceptions.RequestException):
        api.patch("company/contacts/2", [{"op": "replace", "path": "title", "value": "Lost"}])
    assert api.rows("company/contacts/2")["title"] == "Lost"


def test_write_error_before_applying_commits_nothing(sim, api):
    sim.set_faults(write_errors_before=1, write_error_status=503)
    response = api.post("company/contacts", {"firstName": "Refused"})
    assert response.status_code == 503 and "Service Temporarily Unavailable" in response.text
    assert not [r for r in sim.truth("company/contacts") if r["firstName"] == "Refused"]
    assert api.post("company/contacts", {"firstName": "Refused"}).status_code == 201
    assert sim.stats()["faults"]["write_5xx"] == 1


def test_write_error_after_applying_commits_the_record(sim, api):
    sim.set_faults(write_errors_after=1, write_error_status=502)
    response = api.post("company/contacts", {"firstName": "Applied"})
    assert response.status_code == 502 and "Bad Gateway" in response.text
    assert len([r for r in sim.truth("company/contacts") if r["firstName"] == "Applied"]) == 1
    assert sim.stats()["faults"]["write_5xx"] == 1


def test_write_errors_leave_reads_alone_and_are_used_up_in_order(sim, api):
    sim.set_faults(write_errors_before=1, write_errors_after=1, write_error_status=500)
    assert api.get("company/companies/count").status_code == 200
    for _ in range(2):
        response = api.post("company/contacts", {"firstName": "Twice"})
        assert response.status_code == 500
        assert response.json()["message"] == "An error has occurred."
    assert api.post("company/contacts", {"firstName": "Twice"}).status_code == 201
    # the first was refused before, the second applied after: two records, not three
    assert len([r for r in sim.truth("company/contacts") if r["firstName"] == "Twice"]) == 2
