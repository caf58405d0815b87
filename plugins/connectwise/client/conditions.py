"""Build ConnectWise ``conditions`` strings without string-formatting mistakes.

Grammar (API facts §4): strings in double quotes, datetimes in square brackets with a UTC ``Z``
and no fractions, booleans bare, lists as ``in (...)``, clauses joined with ``and``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from connectwise.values import format_datetime

IDS_PER_LOOKUP = 200  # keeps `id in (...)` well under ConnectWise's ~2,000-character URL limit


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


def conditions_for_ids(ids: list[int], key: str = "id") -> list[str]:
    """Split ids into ``<key> in (...)`` conditions short enough for one URL each."""
    return [
        is_in(key, ids[start : start + IDS_PER_LOOKUP])
        for start in range(0, len(ids), IDS_PER_LOOKUP)
    ]


def changed_since(moment: datetime, field: str = "lastUpdated") -> str:
    """Return the incremental-sync clause ``<field> >= [moment]`` (the entity's cursor).

    ``>=`` rather than ``>`` because timestamps have second precision: records updated in the
    same second as the watermark must be read again (upserts make that harmless).
    """
    return f"{field} >= {literal(moment)}"
