"""Values as ConnectWise and our settings write them: booleans in words, UTC timestamps, money."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

# Money is NUMERIC(18,4) on PostgreSQL: 14 digits before the point, 4 after.
MONEY_PLACES = Decimal("0.0001")
MONEY_LIMIT = Decimal(10) ** 14
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


def parse_money(value: Any) -> Decimal:
    """Read an amount as an exact ``Decimal`` with 4 places (half away from zero, as NUMERIC).

    A JSON number arrives as a float; it is read from its shortest text (``12.3456``, not the
    binary expansion ``12.34559999…``), so what ConnectWise wrote is what is stored.

    Raises:
        ValueError: a boolean, text that is no number, NaN or infinity, or 10^14 or more.
    """
    if isinstance(value, bool):
        raise ValueError("a boolean is not an amount")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None
    if not amount.is_finite() or abs(amount) >= MONEY_LIMIT:
        raise ValueError(f"{value!r} is not an amount of at most 14 digits before the point")
    return amount.quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)
