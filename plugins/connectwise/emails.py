"""The one e-mail rule, shared by the quality gate (synced records) and the write-back (outbox).

Syntax is judged by the maintained ``email-validator`` package rather than a home-made regex:
internationalised addresses (``üser@exämple.de``) and plus-addressing pass; ``a@``, ``x@y``,
``a b@c.com`` and ``a@b@c.com`` do not. No DNS lookups (a sync must not depend on the network
beyond ConnectWise), and the value is judged as given: it is stored as given, not normalised.
"""

from __future__ import annotations

import re
from typing import Any

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

# Plain ASCII addresses, judged here by a strict subset of email-validator's own rules (a test
# holds the two together); anything else goes to email-validator itself.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@((?:{_LABEL}\.)+{_LABEL})")
_LOCAL_PART_MAX = 64
_ADDRESS_MAX = 254  # so the domain is within its 253 too


def email_problem(value: Any) -> str | None:
    """Return why ``value`` is not a valid e-mail address, or None when it is one.

    Quoted local parts (``"a b"@x.com``) and IP literals (``a@[10.0.0.1]``) are refused, as are
    reserved domains (``.local``, ``.test``, ``localhost``): no real contact has them.
    """
    if not isinstance(value, str):
        return f"expected text, not {type(value).__name__}"
    # email-validator spends most of its time on IDNA rules, character by character; a sync
    # judges tens of thousands of plain addresses, which need none of them.
    if _is_plain_valid(value):
        return None
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return None


def _is_plain_valid(value: str) -> bool:
    plain = _PLAIN_ADDRESS.fullmatch(value)
    if plain is None or len(value) > _ADDRESS_MAX:
        return False
    domain = plain[1].lower()
    return (
        len(value) - len(domain) - 1 <= _LOCAL_PART_MAX
        and domain[-1].isalpha()  # every top-level domain ends with a letter
        and "--" not in domain  # Punycode and reserved R-LDH labels: the validator decides
        and not any(
            domain == reserved or domain.endswith(f".{reserved}")
            for reserved in SPECIAL_USE_DOMAIN_NAMES
        )
    )
