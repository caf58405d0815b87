"""Delivery parsing, signatures, the key-URL allow-list and the path token (no network)."""

from __future__ import annotations

import json

import pytest
from connectwise.callbacks.inbox import Delivery, MalformedDelivery
from connectwise.callbacks.install import callback_token, mask, receiver_url
from connectwise.callbacks.signature import KeyUrlRefused, allowed_key_url, signature_matches
from connectwise.errors import CallbacksNotConfiguredError, ConnectWiseConnectionError
from connectwise.site import site_from_connection

from tests.callback_support import sign

EXTRA = {"company_id": "acme", "client_id": "cid"}


def site(**extra):
    return site_from_connection("na.myconnectwise.net", "pub", "private", {**EXTRA, **extra})


def body(**fields) -> bytes:
    payload = {
        "Action": "updated",
        "ID": 7,
        "Type": "Contact",
        "MessageId": "m-1",
        "Metadata": {
            "key_url": "https://api-na.myconnectwise.net/v4_6_release/system/callbackkey/index.rails?id=1"
        },
        "Entity": json.dumps({"id": 7, "firstName": "Ada"}),
        **fields,
    }
    return json.dumps({k: v for k, v in payload.items() if v is not None}).encode()


def test_a_delivery_is_parsed_and_its_record_read_from_the_entity_string():
    delivery = Delivery.parse(body())
    assert (delivery.callback_type, delivery.action, delivery.record_id) == (
        "contact",
        "updated",
        7,
    )
    assert delivery.message_key == "m-1"
    assert delivery.record() == {"id": 7, "firstName": "Ada"}
    assert Delivery.parse(body(Entity=None, Action="deleted")).record() is None
    # An entity for another id is not trusted as this record.
    assert Delivery.parse(body(Entity=json.dumps({"id": 8}))).record() is None
    # Without a MessageId the body's hash identifies a resent delivery.
    assert Delivery.parse(body(MessageId=None)).message_key.startswith("sha256:")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{oops", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (body(Type=""), "'Type' is missing"),
        (body(Action="merged"), "'Action' must be one of"),
        (body(ID=0), "'ID' must be a positive integer"),
        (body(ID=True), "'ID' must be a positive integer"),
        (body(Metadata={}), "'Metadata.key_url' is missing"),
    ],
)
def test_malformed_deliveries_are_named(raw, message):
    with pytest.raises(MalformedDelivery, match=message):
        Delivery.parse(raw)


def test_signature_uses_the_sha256_of_the_signing_key():
    payload = body()
    assert signature_matches(payload, sign(payload, "k3y"), "k3y")
    assert not signature_matches(payload, sign(payload, "other"), "k3y")
    assert not signature_matches(payload + b" ", sign(payload, "k3y"), "k3y")


@pytest.mark.parametrize(
    "key_url",
    [
        "https://na.myconnectwise.net/v2025_1//system/callbackkey/index.rails?id=1",
        "https://api-na.myconnectwise.net/v4_6_release/system/callbackkey/index.rails?id=1",
    ],
)
def test_key_urls_on_the_configured_host_are_allowed(key_url):
    assert allowed_key_url(key_url, site()) == key_url


@pytest.mark.parametrize(
    "key_url",
    [
        "https://evil.example.com/v4_6_release/system/callbackkey/index.rails?id=1",
        "http://api-na.myconnectwise.net/v4_6_release/system/callbackkey/index.rails",
        "https://api-na.myconnectwise.net:8443/v4_6_release/system/callbackkey/index.rails",
        "https://api-na.myconnectwise.net/v4_6_release/apis/3.0/company/contacts",
        "https://user:pw@api-na.myconnectwise.net/v4_6_release/system/callbackkey/index.rails",
        "https://api-na.myconnectwise.net.evil.com/v4_6_release/system/callbackkey/index.rails",
        "file:///etc/passwd",
    ],
)
def test_key_urls_elsewhere_are_refused(key_url):
    with pytest.raises(KeyUrlRefused):
        allowed_key_url(key_url, site())


def test_the_path_token_is_secret_stable_and_masked():
    token = callback_token(site())
    assert len(token) == 32 and token == callback_token(site())
    other = site_from_connection("na.myconnectwise.net", "pub", "rotated", EXTRA)
    assert callback_token(other) != token
    url = receiver_url(site(callback_url="https://airflow.example.com/connectwise/"))
    assert url == f"https://airflow.example.com/connectwise/callbacks/{token}?recordId="
    assert token not in mask(url, site())


def test_callbacks_need_a_well_formed_callback_url():
    with pytest.raises(CallbacksNotConfiguredError, match="callback_url"):
        receiver_url(site())
    with pytest.raises(ConnectWiseConnectionError, match="not a base URL"):
        site(callback_url="airflow.example.com/connectwise")
    with pytest.raises(ConnectWiseConnectionError, match="not a base URL"):
        site(callback_url="https://airflow.example.com/connectwise?token=1")
