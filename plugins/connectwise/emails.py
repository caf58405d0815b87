"""The one e-mail rule, shared by the quality gate (synced records) and the write-back (outbox).

Syntax is judged by the maintained ``email-validator`` package rather than a home-made regex:
internationalised addresses (``üser@exämple.de``) and plus-addressing pass; ``a@``, ``x@y``,
``a b@c.com`` and ``a@b@c.com`` do not. No DNS lookups (a sync must not depend on the network
beyond ConnectWise), and the value is judged as given: it is stored as given, not normalised.
"""

from __future__ import annotations

# idna encodes an internationalised domain with Python's punycode codec, imported on first use:
# with this module, a warm task process has it instead of the first chunk of a sync.
import encodings.punycode  # noqa: F401
import re
from functools import lru_cache
from typing import Any

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

# Plain ASCII local parts and domains are judged here by a strict subset of email-validator's own
# rules (a test holds the two together); other domains are judged by email-validator once each,
# and every address this shortcut does not accept goes to email-validator itself.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_LOCAL_PART = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_DOMAIN = re.compile(rf"(?:{_LABEL}\.)+{_LABEL}")
_LOCAL_PART_MAX = 64
_ADDRESS_MAX = 254


def email_problem(value: Any) -> str | None:
    """Return why ``value`` is not a valid e-mail address, or None when it is one.

    Quoted local parts (``"a b"@x.com``) and IP literals (``a@[10.0.0.1]``) are refused, as are
    reserved domains (``.local``, ``.test``, ``localhost``): no real contact has them.
    """
    if not isinstance(value, str):
        return f"expected text, not {type(value).__name__}"
    # email-validator spends most of its time on IDNA rules, character by character, and a
    # sync judges tens of thousands of addresses on far fewer domains.
    local, _, domain = value.rpartition("@")
    if _PLAIN_LOCAL_PART.fullmatch(local) and len(local) <= _LOCAL_PART_MAX:
        longest_domain = _valid_domain_length(domain)
        if longest_domain and len(local) + 1 + longest_domain <= _ADDRESS_MAX:
            return None
    return _validator_problem(value)


def _valid_domain_length(domain: str) -> int:
    """Return the longest form of a valid ``domain`` (as given, Unicode, IDNA), 0 if invalid."""
    if _PLAIN_DOMAIN.fullmatch(domain):
        lowered = domain.lower()
        plain_valid = (
            lowered[-1].isalpha()  # every top-level domain ends with a letter
            and "--" not in lowered  # Punycode and reserved R-LDH labels: the validator decides
            and not any(
                lowered == reserved or lowered.endswith(f".{reserved}")
                for reserved in SPECIAL_USE_DOMAIN_NAMES
            )
        )
        if plain_valid:
            return len(domain)
    return _judged_domain_length(domain)


@lru_cache(maxsize=16384)
def _judged_domain_length(domain: str) -> int:
    try:
        judged = validate_email(f"postmaster@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return 0
    return max(len(domain), len(judged.domain), len(judged.ascii_domain))


def _validator_problem(value: str) -> str | None:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return None
