"""The receiver under abuse: forged deliveries against a key server that counts its requests,
refusals counted per reason, and unexpected errors answered without leaking the token.

The tenant's ConnectWise host is a pytest-local HTTP server that only hands out signing keys
(the receiver asks ConnectWise for nothing else), so every key fetch is seen.
"""

from __future__ import annotations

import http.server
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa
from connectwise.callbacks.install import callback_token
from connectwise.callbacks.signature import SigningKeys
from connectwise.client.site import site_from_connection

from tests.callback_support import delivery, running_receiver, sign
from tests.conftest import connection_json

KEY_ID = "89966c04-0000-4000-8000-000000000001"


@dataclass
class KeyServer:
    """ConnectWise's callback-key page; ``requests`` lists every query string asked for."""

    host: str
    signing_key: str = "first-signing-key"
    any_id: bool = False  # hand the key out for any id, not only KEY_ID
    requests: list[str] = field(default_factory=list)

    def key_url(self, key_id: str = KEY_ID, extra: str = "") -> str:
        return (
            f"http://{self.host}/v2025_1//system/callbackkey/index.rails"
            f"?companyName=acme&id={key_id}{extra}"
        )


@pytest.fixture
def key_server() -> Iterator[KeyServer]:
    server_state: KeyServer | None = None

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            parts = urlsplit(self.path)
            server_state.requests.append(parts.query)
            [key_id] = parse_qs(parts.query).get("id", [""])
            if not parts.path.endswith("/system/callbackkey/index.rails") or not (
                server_state.any_id or key_id == KEY_ID
            ):
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"signing_key": server_state.signing_key}).encode())

        def log_message(self, *args):
            return

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state = KeyServer(host=f"127.0.0.1:{httpd.server_address[1]}")
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield server_state
    finally:
        httpd.shutdown()


@pytest.fixture
def tenant(key_server, cw_connection, staging_connection, sqlite_url) -> SimpleNamespace:
    """A ConnectWise connection whose host is the key server, and SQLite staging."""
    tenant = SimpleNamespace(
        host=key_server.host,
        company_id="acme",
        client_id="cid",
        public_key="pub",
        private_key="private-key-of-the-tenant",
    )
    cw_connection(tenant)
    staging_connection(sqlite_url)
    extra = json.loads(connection_json(tenant))["extra"]
    tenant.token = callback_token(
        site_from_connection(tenant.host, tenant.public_key, tenant.private_key, extra)
    )
    return tenant


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def post(receiver, tenant, body: bytes, signing_key: str | None, token: str | None = None):
    headers = {"x-content-signature": sign(body, signing_key)} if signing_key else {}
    url = f"{receiver.base_url}/callbacks/{token or tenant.token}?recordId=7"
    return requests.post(url, data=body, headers=headers, timeout=10)


def contact(tenant, key_url: str) -> bytes:
    return delivery(tenant, "contact", "updated", {"id": 7}, key_url=key_url)


def test_forged_deliveries_fetch_the_signing_key_at_most_once(tenant, key_server):
    with running_receiver() as receiver:
        for _ in range(20):
            body = contact(tenant, key_server.key_url())
            assert post(receiver, tenant, body, "forged-key").status_code == 403
    assert len(key_server.requests) == 1


def test_key_url_variants_share_one_cached_key_and_one_fetch(tenant, key_server):
    keys = SigningKeys()
    with running_receiver(keys=keys) as receiver:
        for n in range(40):
            body = contact(tenant, key_server.key_url(extra=f"&n={n}"))
            assert post(receiver, tenant, body, "forged-key").status_code == 403
        body = contact(tenant, key_server.key_url(extra="&n=last"))
        assert post(receiver, tenant, body, key_server.signing_key).json()["status"] == "accepted"
    assert len(key_server.requests) == 1 and len(keys) == 1


def test_distinct_key_ids_are_bounded_in_cache_size_and_fetches(tenant, key_server):
    key_server.any_id = True
    clock = Clock()
    keys = SigningKeys(max_keys=4, max_fetches=5, clock=clock)
    with running_receiver(keys=keys) as receiver:
        answers = [
            post(
                receiver,
                tenant,
                contact(tenant, key_server.key_url(key_id=f"id-{n}")),
                key_server.signing_key,
            ).status_code
            for n in range(12)
        ]
        assert answers == [200] * 5 + [503] * 7  # the fetch budget is spent: ConnectWise retries
        assert len(key_server.requests) == 5 and len(keys) == 4
        clock.now += 61  # a new interval, a new budget
        body = contact(tenant, key_server.key_url(key_id="id-new"))
        assert post(receiver, tenant, body, key_server.signing_key).status_code == 200
    assert len(key_server.requests) == 6 and len(keys) == 4


def test_a_rotated_key_is_fetched_again_once_the_interval_has_passed(tenant, key_server):
    clock = Clock()
    with running_receiver(keys=SigningKeys(clock=clock)) as receiver:
        body = contact(tenant, key_server.key_url())
        assert post(receiver, tenant, body, "first-signing-key").json()["status"] == "accepted"
        key_server.signing_key = "rotated-signing-key"  # same key URL, new key behind it
        clock.now += 10
        rotated = contact(tenant, key_server.key_url())
        assert post(receiver, tenant, rotated, "rotated-signing-key").status_code == 403
        assert len(key_server.requests) == 1  # not asked again within the interval
        clock.now += 51
        assert post(receiver, tenant, rotated, "rotated-signing-key").status_code == 200
    assert len(key_server.requests) == 2


def test_refusals_are_counted_per_reason_on_health_and_in_the_log(tenant, key_server, caplog):
    caplog.set_level(logging.WARNING, logger="connectwise.callbacks.receiver")
    good = contact(tenant, key_server.key_url())
    with running_receiver() as receiver:
        assert post(receiver, tenant, good, "x", token="w" * 32).status_code == 404
        assert post(receiver, tenant, good, "x", token="v" * 32).status_code == 404
        assert post(receiver, tenant, good, None).status_code == 401
        assert post(receiver, tenant, good, "forged-key").status_code == 403
        assert post(receiver, tenant, b"{oops", "x").status_code == 400
        assert post(receiver, tenant, good, key_server.signing_key).status_code == 200
        health = requests.get(f"{receiver.base_url}/health", timeout=10).json()
    assert health["refused"] == {
        "wrong_token": 2,
        "unsigned": 1,
        "bad_signature": 1,
        "malformed": 1,
    }
    refusals = [r.getMessage() for r in caplog.records if "Refused a callback" in r.getMessage()]
    assert len(refusals) == 5 and "wrong_token: 2 since start" in refusals[1]
    assert not any(tenant.token in line for line in refusals)


class ExplodingKeys:
    """Signing keys that fail in a way the receiver does not expect."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def key_for(self, key_url, site, *, refresh=False):
        raise RuntimeError(f"unexpected failure near /connectwise/callbacks/{self.secret}")


def test_an_unexpected_error_answers_a_generic_500_and_logs_no_token(tenant, key_server, caplog):
    caplog.set_level(logging.INFO)
    with running_receiver(keys=ExplodingKeys(tenant.token)) as receiver:
        body = contact(tenant, key_server.key_url())
        response = post(receiver, tenant, body, key_server.signing_key)
    assert response.status_code == 500
    assert response.json() == {"error": "internal error"}
    assert "RuntimeError" in caplog.text  # the operator sees what failed...
    assert tenant.token not in caplog.text  # ...but never the token
    assert "/connectwise/callbacks/***" in caplog.text


def test_a_failing_sqlite_staging_answers_503_with_retry_after_and_logs_no_token(
    tenant, key_server, sqlite_url, caplog
):
    """The SQLite side of a staging outage (the PostgreSQL one: test_receiver_processes.py)."""
    caplog.set_level(logging.INFO)
    body = contact(tenant, key_server.key_url())
    with running_receiver() as receiver:
        assert post(receiver, tenant, body, key_server.signing_key).status_code == 200
        engine = sa.create_engine(sqlite_url)
        with engine.begin() as connection:  # the inbox can no longer be written
            connection.exec_driver_sql("DROP TABLE meta_callback_inbox")
        engine.dispose()
        another = contact(tenant, key_server.key_url())  # a new MessageId
        response = post(receiver, tenant, another, key_server.signing_key)
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0  # ConnectWise retries the delivery
    assert tenant.token not in caplog.text
