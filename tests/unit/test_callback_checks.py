"""Delivery parsing, signatures, the key-URL allow-list, the path token and its masking in
log records (no network)."""

from __future__ import annotations

import json
import logging

import pytest
from connectwise.callbacks.inbox import Delivery, MalformedDelivery
from connectwise.callbacks.install import callback_token, mask, receiver_url
from connectwise.callbacks.masking import LogRedactor
from connectwise.callbacks.signature import (
    KeyUrlRefused,
    allowed_key_url,
    key_id,
    signature_matches,
)
from connectwise.client.site import site_from_connection
from connectwise.errors import CallbacksNotConfiguredError, ConnectWiseConnectionError

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
        (b"[" * 200_000 + b"]" * 200_000, "not valid JSON"),  # too deep: a RecursionError
        (b'{"Type": "contact\xff"}', "not valid JSON"),
        ('{"Type": "contact"}'.encode("utf-16"), "not valid JSON"),  # json.loads would take it
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


@pytest.mark.parametrize(
    "key_url",
    [
        "https://sandbox-na.myconnectwise.net/v2025_1//system/callbackkey/index.rails"
        "?companyName=Cobalt&id=89966C04-AAAA",
        "https://api-na.myconnectwise.net/v4_6_release/system/callbackkey/index.rails"
        "?id=89966c04-aaaa",
        "https://cw.example.com/v4_6_release//system/callbackkey/index.rails"
        "?id=89966c04-aaaa&companyName=x&n=1",
    ],
)
def test_a_key_is_identified_by_its_id_whatever_the_url_around_it(key_url):
    assert key_id(key_url) == "89966c04-aaaa"


@pytest.mark.parametrize(
    "key_url",
    [
        "https://na.myconnectwise.net/v2025_1/system/callbackkey/index.rails?companyName=x",
        "https://na.myconnectwise.net/v2025_1/system/callbackkey/index.rails?id=",
        "https://na.myconnectwise.net/v2025_1/system/callbackkey/index.rails?id=a&id=b",
    ],
)
def test_a_key_url_without_exactly_one_id_is_refused(key_url):
    with pytest.raises(KeyUrlRefused, match="exactly one key id"):
        key_id(key_url)


TOKEN = "Tok3n_of-32-characters-xxxxxxxxx"


def formatted(redactor: LogRedactor, msg: str, *args, exc_info=None) -> str:
    record = redactor("receiver", logging.WARNING, __file__, 1, msg, args, exc_info)
    return logging.Formatter("%(message)s").format(record)


def test_log_records_never_carry_a_callback_token():
    redactor = LogRedactor(logging.LogRecord)
    redactor.add_token(TOKEN)
    path = f"/connectwise/callbacks/{TOKEN}?recordId=1"
    assert (
        formatted(redactor, "POST %s 500", path) == "POST /connectwise/callbacks/***?recordId=1 500"
    )
    assert formatted(redactor, f"POST {path}") == "POST /connectwise/callbacks/***?recordId=1"
    assert formatted(redactor, "token %s%s", TOKEN[:10], TOKEN[10:]) == "token ***"
    # Unknown tokens in a callback path are masked too; source paths in tracebacks are not.
    assert (
        formatted(redactor, "GET /connectwise/callbacks/guess") == "GET /connectwise/callbacks/***"
    )
    source = "/work/plugins/connectwise/callbacks/receiver.py"
    assert formatted(redactor, "File %s", source) == f"File {source}"


def test_a_traceback_holding_the_token_is_masked():
    redactor = LogRedactor(logging.LogRecord)
    redactor.add_token(TOKEN)
    try:
        raise RuntimeError(f"lost at /callbacks/{TOKEN}")
    except RuntimeError as exc:
        text = formatted(redactor, "failed", exc_info=(type(exc), exc, exc.__traceback__))
    assert TOKEN not in text
    assert "RuntimeError: lost at /callbacks/***" in text and text.startswith("failed\n")


def test_log_arguments_keep_their_types_for_formatters_that_read_them():
    redactor = LogRedactor(logging.LogRecord)
    redactor.add_token(TOKEN)
    # uvicorn's access formatter unpacks (client, method, path, version, status).
    record = redactor(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:1", "POST", f"/callbacks/{TOKEN}", "1.1", 503),
        None,
    )
    assert record.args == ("127.0.0.1:1", "POST", "/callbacks/***", "1.1", 503)
