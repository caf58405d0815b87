"""Turn ConnectWise error responses into precise, secret-free exceptions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectwise.errors import (
    ConnectWiseAuthError,
    ConnectWiseError,
    ConnectWisePermissionError,
    ConnectWiseRequestError,
)

if TYPE_CHECKING:
    import requests

    from connectwise.site import ConnectWiseSite

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


def describe_failure(
    method: str, endpoint: str, response: requests.Response, site: ConnectWiseSite
) -> ConnectWiseError:
    """Build the exception for a non-retryable error response.

    The message says what failed, where, the likely cause and what to do; it includes
    ConnectWise's own message and field errors, never a header, a query string or a secret.
    """
    status = response.status_code
    where = (
        f"{method} {endpoint} returned {status} for company {site.company_id!r} on {site.api_host}"
    )
    message = api_message(response)
    said = f" ConnectWise said: {message}" if message else ""
    if status == 401:
        return ConnectWiseAuthError(
            f"{where}: the public/private key pair was rejected.{said} Check the API member's "
            "keys (System > Members > API Members > API Keys) and the company id."
        )
    if status == 403:
        module = module_of(endpoint)
        return ConnectWisePermissionError(
            f"{where}: the API member's security role does not allow this.{said} Give the role "
            f"inquire level 'All' on the '{module}' module (System > Security Roles) and make "
            "the table visible in Table Setup; run connectwise_preflight to list every gap."
        )
    if _mentions_client_id(message):
        return ConnectWiseAuthError(
            f"{where}: the clientId was refused.{said} Register the integration at "
            "developer.connectwise.com/ClientID and put the GUID in extra 'client_id'."
        )
    details = api_errors(response)
    detail_text = f" Field errors: {'; '.join(details)}." if details else ""
    return ConnectWiseRequestError(
        f"{where}.{said}{detail_text}", status=status, api_message=message
    )


def _mentions_client_id(message: str | None) -> bool:
    return bool(message) and "clientid" in message.lower().replace(" ", "")
