"""One line per problem of a configuration item, as the tenants and settings files report them.

Both files are lists of items validated by a pydantic model; an operator reads the lines, so
each names the item (``tenants[2]``, ``connections[0] (line 5)``), the key and what is allowed,
in the words of YAML rather than of pydantic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import ValidationError

NOT_TEXT = "must be text (quote it in YAML: off, no and 1 are not text)"


def item_problems(
    where: str,
    exc: ValidationError,
    allowed_keys: Iterable[str],
    *,
    formats: Mapping[str, str] | None = None,
    end: str = "",
) -> list[str]:
    """Describe each error of ``exc`` for the item at ``where``.

    ``formats`` says, by key, what a value must look like when it does not match its pattern
    (pydantic would show the regular expression); ``end`` closes every line (e.g. ``"."``).
    """
    allowed = ", ".join(allowed_keys)
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        key = ".".join(str(part) for part in error["loc"])
        kind = error["type"]
        if kind == "extra_forbidden":
            text = f"unknown key {key!r} (allowed: {allowed})"
        elif kind == "missing":
            text = f"missing required key {key!r}"
        elif kind == "string_type":
            text = f"{key}: {NOT_TEXT}"
        elif kind == "string_pattern_mismatch" and formats and key in formats:
            text = f"{key}: must be {formats[key]}"
        else:
            text = f"{key}: {error['msg'].removeprefix('Value error, ')}"
        lines.append(f"{where}: {text}{end}")
    return lines
