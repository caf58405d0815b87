"""The response policy: what each answer means, and the exceptions built from it."""

from __future__ import annotations

import json

import pytest
import requests
from connectwise.client.policy import (
    CLIENT_ID_REFUSED,
    ENDPOINT_VANISHED,
    REFUSED,
    Action,
    failure_error,
    rule_for,
)
from connectwise.client.site import site_from_connection
from connectwise.errors import (
    ConnectWiseAuthError,
    ConnectWiseClientIdError,
    ConnectWisePermissionError,
    ConnectWiseRequestError,
)

SITE = site_from_connection(
    "na.myconnectwise.net",
    "pub-key",
    "very-secret-private",
    {"company_id": "acme", "client_id": "guid"},
)


def answer(status: int, body: object | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = b"" if body is None else json.dumps(body).encode()
    return response


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (429, Action.WAIT_RETRY_AFTER),
        (500, Action.BACKOFF),
        (502, Action.BACKOFF),
        (503, Action.BACKOFF),
        (504, Action.BACKOFF),
        (400, Action.FAIL),
        (401, Action.FAIL),
        (403, Action.FAIL),
        (404, Action.FAIL),
        (409, Action.FAIL),
    ],
)
def test_only_throttling_and_server_errors_are_retried(status: int, action: Action) -> None:
    assert rule_for(answer(status)).action is action


def test_an_unknown_path_means_the_codebase_moved() -> None:
    vanished = answer(404, {"code": "NotFound", "message": "The endpoint does not exist."})
    missing_record = answer(404, {"code": "NotFound", "message": "Contact not found"})

    assert rule_for(vanished) is ENDPOINT_VANISHED
    assert rule_for(vanished).action is Action.REDISCOVER
    assert rule_for(missing_record) is REFUSED


@pytest.mark.parametrize(
    "body",
    [
        {"code": "InvalidClientId", "message": "The clientId header is not recognized."},
        {"code": "BadRequest", "message": "A Client ID is required on every request"},
    ],
)
def test_a_refused_client_id_is_told_apart_from_keys(body: dict[str, str]) -> None:
    assert rule_for(answer(400, body)) is CLIENT_ID_REFUSED
    assert rule_for(answer(401, body)).fault == "keys"  # credentials are checked first


@pytest.mark.parametrize(
    ("status", "body", "error", "words"),
    [
        (401, {"message": "Bad creds"}, ConnectWiseAuthError, "key pair was rejected"),
        (403, None, ConnectWisePermissionError, "'Procurement' module"),
        (400, {"code": "InvalidClientId", "message": "x"}, ConnectWiseClientIdError, "ClientID"),
        (
            400,
            {"message": "Bad", "errors": [{"field": "name", "message": "required"}]},
            ConnectWiseRequestError,
            "Field errors: name: required.",
        ),
    ],
)
def test_each_failure_becomes_its_exception_with_the_fix(
    status: int, body: object, error: type[Exception], words: str
) -> None:
    raised = failure_error("GET", "procurement/catalog", answer(status, body), SITE)

    assert type(raised) is error
    assert words in str(raised)
    assert "GET procurement/catalog returned" in str(raised) and "'acme'" in str(raised)
    assert "very-secret-private" not in str(raised)
    assert raised.api_message == (body or {}).get("message")
