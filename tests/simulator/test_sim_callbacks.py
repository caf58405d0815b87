"""Callback entries CRUD and validation; signed deliveries to a real local HTTP server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import requests


def wait_for(predicate, timeout: float = 30.0, what: str = "condition", seen=None):
    """Poll until ``predicate()`` is truthy; the deadline is only for giving up."""
    deadline = time.monotonic() + timeout
    while True:
        last_check = time.monotonic() >= deadline
        result = predicate()
        if result:
            return result
        if last_check:
            break
        time.sleep(0.02)
    observed = seen() if seen is not None else result
    raise AssertionError(f"{what}: not met within {timeout:g} s; seen: {observed!r}")


def settle(sim, receiver) -> None:
    """Wait until the simulator has sent everything it queued.

    Writes queue their deliveries before they answer, and a delivery queue goes away only
    after its last message got its final answer (and was counted): so once no queue is left,
    anything that was going to be delivered has been.
    """
    wait_for(
        lambda: sim.sim.dispatcher.pending() == 0,
        what="the simulator's delivery queues to empty",
        seen=lambda: {
            "queues": sim.sim.dispatcher.pending(),
            "callbacks": sim.stats()["callbacks"],
            "received": [(d["json"]["Action"], d["json"]["ID"]) for d in receiver.deliveries],
        },
    )


def subscribe(
    api, url: str, kind: str = "contact", level: str = "owner", object_id: int = 0, **extra
):
    response = api.post(
        "system/callbacks",
        {
            "url": url,
            "objectId": object_id,
            "type": kind,
            "level": level,
            "description": "test",
            **extra,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def verify_signature(delivery: dict) -> bool:
    """Independent check: base64(HMAC-SHA256(SHA256(signing_key), raw body))."""
    key_url = delivery["json"]["Metadata"]["key_url"]
    signing_key = requests.get(key_url, timeout=10).json()["signing_key"]
    key = hashlib.sha256(signing_key.encode("utf-8")).digest()
    expected = base64.b64encode(hmac.new(key, delivery["raw"], hashlib.sha256).digest())
    return hmac.compare_digest(expected.decode(), delivery["headers"]["x-content-signature"])


def test_callback_crud_and_owner_object_id(api):
    entry = subscribe(api, "https://example.com/hook?id=")
    assert entry["objectId"] == 1 and entry["memberId"] and entry["connectWiseID"]
    assert entry["inactiveFlag"] is False
    assert api.rows(f"system/callbacks/{entry['id']}") == entry
    patched = api.patch(
        f"system/callbacks/{entry['id']}",
        [{"op": "replace", "path": "description", "value": "renamed"}],
    )
    assert patched.json()["description"] == "renamed"
    assert api.get("system/callbacks/count").json() == {"count": 1}
    assert api.delete(f"system/callbacks/{entry['id']}").status_code == 204
    assert api.get(f"system/callbacks/{entry['id']}").status_code == 404


def test_duplicate_callback_is_object_exists(api):
    subscribe(api, "https://example.com/hook")
    response = api.post(
        "system/callbacks",
        {"url": "https://example.com/hook", "objectId": 1, "type": "contact", "level": "owner"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "callbackEntry object is invalid"
    assert body["errors"][0]["code"] == "ObjectExists"
    assert body["errors"][0]["field"] == "objectId"


def test_bad_level_and_bad_url(api):
    response = api.post(
        "system/callbacks",
        {"url": "not a url", "objectId": 1, "type": "agreement", "level": "status"},
    )
    assert response.status_code == 400
    errors = {e["field"]: e for e in response.json()["errors"]}
    assert errors["url"]["code"] == "InvalidField" and errors["url"]["message"] == "Invalid URL"
    assert errors["level"]["message"].startswith("Unrecognized level for type")


def test_callback_missing_required_fields(api):
    response = api.post("system/callbacks", {"description": "x"})
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"url", "type", "level"} <= fields


def test_signed_delivery_for_api_write(api, sim, receiver):
    subscribe(api, f"{receiver.url}/cw?recordId=")
    contact = api.post("company/contacts", {"firstName": "Hooked"}).json()
    delivery = wait_for(lambda: receiver.deliveries and receiver.deliveries[0])
    body = delivery["json"]
    assert delivery["path"] == f"/cw?recordId={contact['id']}"
    assert body["Action"] == "added" and body["Type"] == "contact" and body["ID"] == contact["id"]
    assert body["CompanyId"] == "acme" and body["MemberId"] == "SyncAPI"
    assert isinstance(body["Entity"], str) and json.loads(body["Entity"]) == contact
    assert body["CallbackObjectRecId"] and body["MessageId"] and body["FromUrl"]
    assert "/system/callbackkey/index.rails?companyName=acme&id=" in body["Metadata"]["key_url"]
    assert verify_signature(delivery)


def test_delete_delivery_has_null_entity_and_order_is_kept(sim, api, receiver):
    subscribe(api, f"{receiver.url}/cw")
    contact = api.post("company/contacts", {"firstName": "Short"}).json()
    change = [{"op": "replace", "path": "title", "value": "A"}]
    api.patch(f"company/contacts/{contact['id']}", change)
    api.delete(f"company/contacts/{contact['id']}")
    settle(sim, receiver)
    actions = [d["json"]["Action"] for d in receiver.deliveries]
    assert actions == ["added", "updated", "deleted"]
    assert receiver.deliveries[2]["json"]["Entity"] is None
    assert all(verify_signature(d) for d in receiver.deliveries)


def test_record_level_subscription_only_fires_for_that_record(sim, api, receiver):
    subscribe(api, f"{receiver.url}/one", level="contact", object_id=3)
    api.patch("company/contacts/2", [{"op": "replace", "path": "title", "value": "A"}])
    api.patch("company/contacts/3", [{"op": "replace", "path": "title", "value": "B"}])
    settle(sim, receiver)
    assert [d["json"]["ID"] for d in receiver.deliveries] == [3]


def test_mutation_triggers_callbacks(sim, api, receiver):
    subscribe(api, f"{receiver.url}/cw", kind="company")
    plan = sim.mutate("company/companies", create=2, update=1, delete=1, seed=5)
    settle(sim, receiver)
    assert len(receiver.deliveries) == 4
    seen = {(d["json"]["Action"], d["json"]["ID"]) for d in receiver.deliveries}
    expected = {("added", i) for i in plan["created"]} | {("updated", i) for i in plan["updated"]}
    expected |= {("deleted", i) for i in plan["deleted"]}
    assert seen == expected
    assert all(d["json"]["MemberId"] == "admin" for d in receiver.deliveries)


def test_retries_on_429_and_404_then_succeeds(sim, api, receiver):
    receiver.statuses = [429, 404]
    subscribe(api, f"{receiver.url}/cw")
    api.post("company/contacts", {"firstName": "Retry"})
    settle(sim, receiver)
    stats = sim.stats()["callbacks"]
    assert (stats["attempts"], stats["delivered"], stats["failed"]) == (3, 1, 0)
    assert len(receiver.deliveries) == 3
    bodies = [d["raw"] for d in receiver.deliveries]
    assert bodies[0] == bodies[1] == bodies[2]


def test_no_retry_on_400(sim, api, receiver):
    receiver.statuses = [400]
    subscribe(api, f"{receiver.url}/cw")
    api.post("company/contacts", {"firstName": "NoRetry"})
    settle(sim, receiver)
    stats = sim.stats()["callbacks"]
    assert (stats["attempts"], stats["delivered"], stats["failed"]) == (1, 0, 1)


def test_callback_disabled_after_consecutive_failures(sim, api, receiver):
    sim.set_callback_settings(disable_after_failures=2)
    receiver.statuses = [500] * 6
    entry = subscribe(api, f"{receiver.url}/cw")
    api.post("company/contacts", {"firstName": "Fail1"})
    settle(sim, receiver)
    assert sim.stats()["callbacks"]["failed"] == 1
    assert not api.rows(f"system/callbacks/{entry['id']}")["inactiveFlag"]
    api.post("company/contacts", {"firstName": "Fail2"})
    settle(sim, receiver)
    assert api.rows(f"system/callbacks/{entry['id']}")["inactiveFlag"]
    assert sim.stats()["callbacks"]["attempts"] == 6
    api.post("company/contacts", {"firstName": "Ignored"})
    settle(sim, receiver)
    assert len(receiver.deliveries) == 6


def test_self_suppressed_callback_skips_own_api_writes(sim, api, receiver):
    subscribe(api, f"{receiver.url}/cw", isSelfSuppressedFlag=True)
    api.post("company/contacts", {"firstName": "Mine"})
    sim.mutate("company/contacts", update=1, seed=2)
    settle(sim, receiver)
    assert [d["json"]["MemberId"] for d in receiver.deliveries] == ["admin"]


def test_signing_key_endpoint_on_both_slash_forms(sim):
    plain = requests.get(
        f"{sim.base_url}/v2025_1/system/callbackkey/index.rails",
        params={"companyName": "acme", "id": sim.sim.signing_key_id},
        timeout=10,
    )
    double = requests.get(
        f"{sim.base_url}/v2025_1//system/callbackkey/index.rails",
        params={"companyName": "acme", "id": sim.sim.signing_key_id},
        timeout=10,
    )
    assert plain.json() == double.json() and "signing_key" in plain.json()
    wrong = requests.get(
        f"{sim.base_url}/v2025_1/system/callbackkey/index.rails", params={"id": "nope"}, timeout=10
    )
    assert wrong.status_code == 404
