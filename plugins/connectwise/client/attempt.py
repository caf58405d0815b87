"""One attempt at a request: send it, read the whole body, judge the answer by the policy.

A write is retried only when ConnectWise certainly did not act on it (a refused connection,
a 429): a lost response, a cut body or a 5xx after a POST may have created the record, so
the attempt fails as uncertain and the caller looks the record up before writing again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests

from connectwise.client.bodies import (
    GARBLED,
    ApiResponse,
    decode,
    read_body,
    request_json,
)
from connectwise.client.packed import decode_page
from connectwise.client.policy import (
    Action,
    api_message,
    failure_error,
    is_connect_failure,
    rule_for,
)
from connectwise.errors import ConnectWiseTransientError

if TYPE_CHECKING:
    from connectwise.client.site import ConnectWiseSite

log = logging.getLogger(__name__)
LOST = "the response was lost after the request was sent"


@dataclass(frozen=True)
class Failure:
    """Why one attempt failed, and what to do about it."""

    reason: str
    action: Action
    response: requests.Response | None = None


def send_once(
    session: requests.Session,
    method: str,
    endpoint: str,
    url: str,
    site: ConnectWiseSite,
    *,
    params: dict[str, Any] | None,
    json: Any,
    spool: bool = False,
) -> requests.Response | Failure:
    """Send one request and read its whole body; a transport failure is a :class:`Failure`.

    With ``spool``, a successful answer's body goes to a temporary file (``spool_body``).

    Raises:
        ConnectWiseTransientError: a POST whose fate is unknown.
    """
    started = time.monotonic()
    try:
        response = session.request(
            method,
            url,
            params=params,
            json=request_json(json),
            timeout=(site.connect_timeout, site.read_timeout),
            stream=True,
        )
        read_body(response, spool=spool)
    except requests.ConnectionError as exc:
        if method == "POST" and not is_connect_failure(exc):
            raise uncertain_write(method, endpoint, site, LOST) from None
        return Failure(f"connection failed ({type(exc).__name__})", Action.BACKOFF)
    except requests.Timeout:
        if method == "POST":
            raise uncertain_write(method, endpoint, site, LOST) from None
        return Failure(f"timed out after {site.read_timeout:g} s", Action.BACKOFF)
    except requests.RequestException as exc:
        # E.g. ChunkedEncodingError: the server answered (so acted) and the body was cut.
        if method == "POST":
            raise uncertain_write(method, endpoint, site, LOST) from None
        return Failure(f"transport error ({type(exc).__name__})", Action.BACKOFF)
    elapsed = time.monotonic() - started
    log.debug("%s %s -> %d in %.3f s", method, endpoint, response.status_code, elapsed)
    return response


def judge(
    method: str,
    endpoint: str,
    response: requests.Response,
    site: ConnectWiseSite,
    *,
    page: bool = False,
) -> ApiResponse | Failure:
    """Decode a received response, or classify its failure by the response policy.

    With ``page``, a JSON array comes back as a :class:`~connectwise.client.packed.PackedPage`.

    Raises:
        ConnectWiseError: the policy says fail, or a POST may have been applied.
    """
    if response.status_code < 400:
        decoded = decode_page(response) if page else decode(response)
        if decoded is not GARBLED:
            return ApiResponse(response.status_code, decoded, response.headers)
        if method == "POST":
            raise uncertain_write(method, endpoint, site, LOST)
        return Failure("garbled or truncated JSON body", Action.BACKOFF, response)
    rule = rule_for(response)
    if rule.action is Action.FAIL:
        raise failure_error(method, endpoint, response, site)
    if method == "POST" and rule.action is Action.BACKOFF:
        # A gateway's 502/504 can come after ConnectWise created the record; so can a 500.
        said = api_message(response)
        what = f"answered {response.status_code}" + (f" (ConnectWise said: {said})" if said else "")
        raise uncertain_write(method, endpoint, site, f"{what} after the request was sent")
    reason = "endpoint not found" if rule.action is Action.REDISCOVER else None
    return Failure(reason or f"HTTP {response.status_code}", rule.action, response)


def uncertain_write(
    method: str, endpoint: str, site: ConnectWiseSite, what: str
) -> ConnectWiseTransientError:
    """Return the error of a write ConnectWise may have applied."""
    return ConnectWiseTransientError(
        f"{method} {endpoint} on {site.api_host}: {what}, so ConnectWise may have "
        "applied it. Not retried blindly; the caller must look the record up before "
        "trying again."
    )
