"""What staging keeps of one record besides its columns: the content hash and a rejection.

They live at the bottom because both the mapper and the quality gate produce rejections and
the writer stores them; the hash tells a changed record from an unchanged one on every load.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Rejection:
    """A record that could not be mapped or failed a check: it goes to quarantine.

    ``problem`` is the reason without the record's own values (the Issues page groups by it;
    None: the reason itself) and ``value`` the value that failed, as text.
    """

    record_id: int | None
    check: str
    reason: str
    payload: str
    problem: str | None = None
    value: str | None = None


def record_hash(raw_json: str) -> str:
    """Return the content hash used to tell changed records from unchanged ones."""
    return hashlib.sha256(raw_json.encode()).hexdigest()[:32]
