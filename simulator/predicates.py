"""Compile a parsed ``conditions`` tree into a fast predicate over stored records.

Text comparisons ignore case, like the SQL Server collation behind ConnectWise; a comparison
with a null field is false except ``= null`` (SQL semantics). A path through an array (e.g.
``types/name``) holds when any element matches.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from simulator.conditions import BoolOp, Compare, ConditionError, DateLit, Not

Record = dict[str, Any]
Predicate = Callable[[Record], bool]
Resolver = Callable[[str], tuple[str, ...]]


class Multi(list):  # type: ignore[type-arg]
    """Values collected through an array on the path; a comparison holds if any element does."""


def make_getter(keys: tuple[str, ...]) -> Callable[[Record], Any]:
    """Return a fast accessor for a resolved path such as ``("company", "id")``."""
    if len(keys) == 1:
        key = keys[0]
        return lambda record: record.get(key)

    def get(record: Record) -> Any:
        value: Any = record
        for depth, key in enumerate(keys):
            if isinstance(value, dict):
                value = value.get(key)
            elif isinstance(value, list):
                rest = make_getter(keys[depth:])
                found = Multi()
                for item in value:
                    inner = rest(item) if isinstance(item, dict) else None
                    found.extend(inner if isinstance(inner, Multi) else [inner])
                return found
            else:
                return None
        if isinstance(value, list):
            return Multi(value)
        return value

    return get


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def like_regex(pattern: str) -> re.Pattern[str]:
    """Translate a ``like`` pattern: ``%`` and ``*`` match any run of characters (facts §4)."""
    parts = re.split(r"[%*]", pattern)
    return re.compile(".*".join(re.escape(p) for p in parts), re.IGNORECASE | re.DOTALL)


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _number_test(compare: Callable[[Any, Any], bool], literal: float) -> Callable[[Any], bool]:
    def test(value: Any) -> bool:
        if isinstance(value, bool) or value is None:
            return False
        if isinstance(value, int | float):
            return compare(value, literal)
        if isinstance(value, str):
            number = _as_number(value)
            return number is not None and compare(number, literal)
        return False

    return test


def _text_test(op: str, literal: str) -> Callable[[Any], bool]:
    compare = _ORDER[op]
    folded = literal.casefold()
    number = _as_number(literal)

    def test(value: Any) -> bool:
        if isinstance(value, str):
            return compare(value.casefold(), folded)
        if isinstance(value, bool):
            return op in ("=", "!=") and compare(value, folded == "true")
        if isinstance(value, int | float) and number is not None:
            return compare(value, number)
        return False

    return test


def value_test(op: str, literal: Any) -> Callable[[Any], bool]:
    """Return a test of one field value against a literal (no null or array handling)."""
    if op == "in":
        tests = [value_test("=", item) for item in literal]
        return lambda value: any(t(value) for t in tests)
    if op == "contains":
        needle = literal.casefold()
        return lambda value: isinstance(value, str) and needle in value.casefold()
    if op == "like":
        regex = like_regex(literal)
        return lambda value: isinstance(value, str) and regex.fullmatch(value) is not None
    if literal is None:
        if op not in ("=", "!="):
            raise ConditionError(f"null can only be compared with = or !=, not {op}")
        return (lambda v: v is None) if op == "=" else (lambda v: v is not None)
    compare = _ORDER[op]
    if isinstance(literal, DateLit):
        text = literal.text
        return lambda value: isinstance(value, str) and compare(value, text)
    if isinstance(literal, bool):
        if op not in ("=", "!="):
            raise ConditionError(f"Booleans can only be compared with = or !=, not {op}")
        return lambda value: isinstance(value, bool) and compare(value, literal)
    if isinstance(literal, int | float):
        return _number_test(compare, literal)
    return _text_test(op, literal)


def _compile_compare(node: Compare, resolve: Resolver) -> Predicate:
    getter = make_getter(resolve(node.path))
    test = value_test(node.op, node.value)
    is_null_check = node.value is None

    if node.negate:
        def negated(record: Record) -> bool:
            value = getter(record)
            if isinstance(value, Multi):
                return not any(test(v) for v in value)
            return value is not None and not test(value)

        return negated

    def positive(record: Record) -> bool:
        value = getter(record)
        if isinstance(value, Multi):
            return any(test(v) for v in value) if value or not is_null_check else test(None)
        return test(value)

    return positive


def compile_node(node: Compare | BoolOp | Not, resolve: Resolver, *,
                 allow_in: bool = True) -> Predicate:
    """Compile a parsed tree to a predicate; field paths go through ``resolve``."""
    if isinstance(node, Compare):
        if node.op == "in" and not allow_in:
            raise ConditionError("'in' is not supported in childConditions")
        return _compile_compare(node, resolve)
    if isinstance(node, Not):
        inner = compile_node(node.item, resolve, allow_in=allow_in)
        return lambda record: not inner(record)
    parts = [compile_node(item, resolve, allow_in=allow_in) for item in node.items]
    if node.op == "and":
        return lambda record: all(p(record) for p in parts)
    return lambda record: any(p(record) for p in parts)
