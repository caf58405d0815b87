"""What each ConnectWise answer means: one table for retries, exceptions and connection checks.

A status maps to a :class:`Rule` (after the Airbyte CDK's error handlers): what to do (wait for
``Retry-After``, back off, rediscover the codebase, or fail), whose fault it is, what it means
and the fix. The hook retries by it and builds its exceptions from it; the connection checklist
tells the causes apart by the exception's type, never by its text. It follows the Developer
Guide (API facts §5): never retry 400/401/403/404; back off exponentially with jitter on 5xx
and timeouts; honour ``Retry-After`` on 429.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests

from connectwise.errors import (
    ConnectWiseAuthError,
    ConnectWiseClientIdError,
    ConnectWiseError,
    ConnectWisePermissionError,
    ConnectWiseRequestError,
    ConnectWiseTransientError,
)

if TYPE_CHECKING:
    from connectwise.client.site import ConnectWiseSite


class Action(enum.Enum):
    """What to do with an answer that is not a success."""

    WAIT_RETRY_AFTER = "wait_retry_after"
    BACKOFF = "backoff"
    REDISCOVER = "rediscover"  # the path is unknown: the codebase moved (a cloud upgrade)
    FAIL = "fail"


@dataclass(frozen=True)
class Rule:
    """One line of the policy: the action, whose fault it is, what it means and the fix."""

    action: Action
    fault: str
    error: type[ConnectWiseError]
    meaning: str
    fix: str


_SERVER = Rule(
    Action.BACKOFF,
    "ConnectWise",
    ConnectWiseTransientError,
    "ConnectWise or a gateway in front of it failed to answer",
    "Nothing to change here; the task is retried later.",
)
RESPONSE_POLICY: Mapping[int, Rule] = {
    401: Rule(
        Action.FAIL,
        "keys",
        ConnectWiseAuthError,
        "the public/private key pair was rejected",
        "Check the API member's keys (System > Members > API Members > API Keys) and the "
        "company id.",
    ),
    403: Rule(
        Action.FAIL,
        "security role",
        ConnectWisePermissionError,
        "the API member's security role does not allow this",
        "Give the role inquire level 'All' on the '{module}' module (System > Security Roles) "
        "and make the table visible in Table Setup; run connectwise_preflight to list every gap.",
    ),
    429: Rule(
        Action.WAIT_RETRY_AFTER,
        "throttling",
        ConnectWiseTransientError,
        "ConnectWise is throttling this integration",
        "Lower requests_per_minute or max_parallel_requests in the connection's extra.",
    ),
    500: _SERVER,
    502: _SERVER,
    503: _SERVER,
    504: _SERVER,
}
"""Statuses with a rule of their own; any other status >= 400 fails as :data:`REFUSED`."""

CLIENT_ID_REFUSED = Rule(
    Action.FAIL,
    "client id",
    ConnectWiseClientIdError,
    "the clientId was refused",
    "Register the integration at developer.connectwise.com/ClientID and put the GUID in "
    "extra 'client_id'.",
)
ENDPOINT_VANISHED = Rule(
    Action.REDISCOVER,
    "codebase",
    ConnectWiseRequestError,
    "the endpoint does not exist on this codebase",
    "Set no fixed 'codebase' in the connection's extra, so it is discovered again.",
)
REFUSED = Rule(
    Action.FAIL,
    "request",
    ConnectWiseRequestError,
    "the request was refused",
    "See ConnectWise's message and field errors.",
)

# First path segment → security-role module that grants it (the Salesbuildr seed's 8 modules).
MODULE_BY_SEGMENT: dict[str, str] = {
    "company": "Companies",
    "finance": "Finance",
    "marketing": "Marketing",
    "procurement": "Procurement",
    "project": "Project",
    "sales": "Sales",
    "service": "Service Desk",
    "system": "System",
    "expense": "Finance",
    "time": "Time & Expense",
}


def rule_for(response: requests.Response) -> Rule:
    """Return the rule for a failed answer (status >= 400)."""
    if response.status_code == 404 and api_message(response) == "The endpoint does not exist.":
        return ENDPOINT_VANISHED
    rule = RESPONSE_POLICY.get(response.status_code)
    if rule is not None:
        return rule
    body = error_body(response)
    said = f"{body.get('code', '')} {body.get('message', '')}".lower().replace(" ", "")
    return CLIENT_ID_REFUSED if "clientid" in said else REFUSED


def failure_error(
    method: str, endpoint: str, response: requests.Response, site: ConnectWiseSite
) -> ConnectWiseError:
    """Build the exception for a failed answer from its rule.

    The message says what failed, where, what it means and what to do; it includes
    ConnectWise's own message and field errors, never a header, a query string or a secret.
    """
    rule = rule_for(response)
    status = response.status_code
    where = (
        f"{method} {endpoint} returned {status} for company {site.company_id!r} on {site.api_host}"
    )
    message = api_message(response)
    said = f" ConnectWise said: {message}" if message else ""
    if rule is REFUSED or rule is ENDPOINT_VANISHED:
        details = api_errors(response)
        detail_text = f" Field errors: {'; '.join(details)}." if details else ""
        return ConnectWiseRequestError(
            f"{where}.{said}{detail_text}", status=status, api_message=message
        )
    fix = rule.fix.format(module=module_of(endpoint))
    error = rule.error(f"{where}: {rule.meaning}.{said} {fix}")
    error.api_message = message
    return error


def is_connect_failure(exc: requests.ConnectionError) -> bool:
    """Tell whether the request never reached the server (refused, DNS, connect timeout)."""
    return isinstance(exc, requests.ConnectTimeout) or "NewConnectionError" in repr(exc)


def module_of(endpoint: str) -> str:
    """Return the security-role module that an endpoint belongs to."""
    segment = endpoint.strip("/").split("/", 1)[0].lower()
    return MODULE_BY_SEGMENT.get(segment, segment.title())


def error_body(response: requests.Response) -> dict[str, Any]:
    """Return the JSON error body, or an empty dict when there is none."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def api_message(response: requests.Response) -> str | None:
    """Return ConnectWise's own ``message`` of an error response, if any."""
    message = error_body(response).get("message")
    return str(message) if message else None


def api_errors(response: requests.Response) -> list[str]:
    """Return ConnectWise's ``errors[]`` as ``field: message`` strings."""
    details = error_body(response).get("errors") or []
    found = []
    for item in details if isinstance(details, list) else []:
        if isinstance(item, dict) and item.get("message"):
            field = item.get("field")
            found.append(f"{field}: {item['message']}" if field else str(item["message"]))
    return found
