"""Basic auth ``company+public:private``, the ``clientId`` header and security roles.

Order of checks: credentials (401), then ``clientId`` (400), then the module or table the
endpoint needs (403).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping

from simulator.errors import ApiError
from simulator.settings import AuthSettings

# DG: 401 = "The supplied authentication is incorrect". CTC handles both bodies below; which
# one goes with which failure is UNCONFIRMED. We send ConnectWiseApi/UserNotAuthenticated when
# no usable Basic header arrives and Unauthorized when the credentials are wrong.
NO_AUTH_BODY = {"code": "ConnectWiseApi", "message": "UserNotAuthenticated"}
BAD_AUTH_BODY = {"code": "Unauthorized", "message": "The supplied authentication is incorrect"}
# The real answer to a missing clientId is UNCONFIRMED (facts §1); this 400 says what to do.
NO_CLIENT_ID_BODY = {
    "code": "InvalidClientId",
    "message": "A clientId header is required on every request; "
               "register one at https://developer.connectwise.com/ClientID",
    "errors": None,
}
WRONG_CLIENT_ID_BODY = {
    "code": "InvalidClientId",
    "message": "The clientId header is not recognized for this integration.",
    "errors": None,
}


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def credentials_key(headers: Mapping[str, str]) -> str:
    """Return the raw Authorization value, used to throttle per set of credentials."""
    return headers.get("authorization", "")


def check_credentials(headers: Mapping[str, str], settings: AuthSettings) -> None:
    """Raise 401 unless the Basic header carries ``company+public:private`` (facts §1)."""
    raw = headers.get("authorization", "")
    scheme, _, encoded = raw.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise ApiError(401, NO_AUTH_BODY)
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ApiError(401, NO_AUTH_BODY) from exc
    user, sep, private = decoded.partition(":")
    company, plus, public = user.partition("+")
    if not sep or not plus:
        raise ApiError(401, NO_AUTH_BODY)
    ok = (
        company.lower() == settings.company_id.lower()
        and _same(public, settings.public_key)
        and _same(private, settings.private_key)
    )
    if not ok:
        raise ApiError(401, BAD_AUTH_BODY)


def check_client_id(headers: Mapping[str, str], settings: AuthSettings) -> None:
    """Require the ``clientId`` header (any spelling; headers are case-insensitive)."""
    given = headers.get("clientid")
    if not given:
        raise ApiError(400, NO_CLIENT_ID_BODY)
    if settings.client_id and given.strip().lower() != settings.client_id.lower():
        raise ApiError(400, WRONG_CLIENT_ID_BODY)


def check_access(module: str, table: str | None, settings: AuthSettings) -> None:
    """Raise 403 when the role lacks the module or the Table Setup entity is hidden."""
    # DG: 403 = "Improper security role settings for the supplied authentication".
    if module.lower() in (m.lower() for m in settings.denied_modules):
        raise ApiError(403, {
            "code": "Forbidden",
            "message": "Improper security role settings for the supplied authentication: "
                       f"the security role has no inquire access to the {module} module.",
            "errors": None,
        })
    if table is not None and table.lower() in (t.lower() for t in settings.hidden_tables):
        raise ApiError(403, {
            "code": "Forbidden",
            "message": "Improper security role settings for the supplied authentication: "
                       f"the Table Setup entity '{table}' is not visible to this security role.",
            "errors": None,
        })
