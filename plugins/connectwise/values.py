"""Parsing of loosely typed values shared by the connection settings and the mapping."""

from __future__ import annotations

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
