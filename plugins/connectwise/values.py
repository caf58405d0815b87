"""Values as ConnectWise and our settings write them: booleans in words, UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

TRUE_WORDS = frozenset({"true", "1", "yes"})
FALSE_WORDS = frozenset({"false", "0", "no"})


def parse_boolean(value: Any) -> bool:
    """Read ``true/false``, ``1/0`` and ``yes/no`` (any case) as a boolean.

    Raises:
        ValueError: the value is none of those.
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(f"{value!r} is not a boolean")


def format_datetime(moment: datetime) -> str:
    """Return ``moment`` as ConnectWise writes timestamps: UTC, second precision, ``Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(text: str | None) -> datetime | None:
    """Parse a ConnectWise timestamp (``2024-01-02T03:04:05Z``, date-only also) as UTC."""
    if not text:
        return None
    value = text.strip()
    if len(value) == 10:  # date-only values exist in the wild; ConnectWise means UTC midnight
        value += "T00:00:00Z"
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
