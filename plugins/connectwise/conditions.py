"""Build ConnectWise ``conditions`` strings without string-formatting mistakes.

Grammar (API facts §4): strings in double quotes, datetimes in square brackets with a UTC ``Z``
and no fractions, booleans bare, lists as ``in (...)``, clauses joined with ``and``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime


def literal(value: object) -> str:
    """Render a Python value as a ConnectWise condition literal."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return f"[{format_datetime(value)}]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


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


def all_of(*clauses: str | None) -> str | None:
    """Join the non-empty clauses with ``and``, each parenthesised; None if there are none."""
    present = [clause for clause in clauses if clause]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return " and ".join(f"({clause})" for clause in present)


def is_in(path: str, values: Iterable[object]) -> str:
    """Return ``path in (v1, v2, ...)``."""
    return f"{path} in ({', '.join(literal(value) for value in values)})"


def changed_since(moment: datetime) -> str:
    """Return the incremental-sync clause ``lastUpdated >= [moment]``.

    ``>=`` rather than ``>`` because timestamps have second precision: records updated in the
    same second as the watermark must be read again (upserts make that harmless).
    """
    return f"lastUpdated >= {literal(moment)}"
