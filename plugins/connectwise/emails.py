"""The one e-mail rule, shared by the quality gate (synced records) and the write-back (outbox).

Syntax is judged by the maintained ``email-validator`` package rather than a home-made regex:
internationalised addresses (``üser@exämple.de``) and plus-addressing pass; ``a@``, ``x@y``,
``a b@c.com`` and ``a@b@c.com`` do not. No DNS lookups (a sync must not depend on the network
beyond ConnectWise), and the value is judged as given: it is stored as given, not normalised.
"""

from __future__ import annotations

from typing import Any

from email_validator import EmailNotValidError, validate_email


def email_problem(value: Any) -> str | None:
    """Return why ``value`` is not a valid e-mail address, or None when it is one.

    Quoted local parts (``"a b"@x.com``) and IP literals (``a@[10.0.0.1]``) are refused, as are
    reserved domains (``.local``, ``.test``, ``localhost``): no real contact has them.
    """
    if not isinstance(value, str):
        return f"expected text, not {type(value).__name__}"
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return None
