"""The ``conditions`` language: tokenizer, parser and compiler to a record predicate.

Grammar (facts §4 "Value grammar"; AND binds tighter than OR, keywords case-insensitive)::

    expr       := and_expr (OR and_expr)*
    and_expr   := unary (AND unary)*
    unary      := NOT unary | '(' expr ')' | comparison
    comparison := FIELD ('=' | '!=' | '<' | '<=' | '>' | '>=') value
                | FIELD [NOT] (CONTAINS | LIKE) value
                | FIELD [NOT] IN '(' value (',' value)* ')'
    value      := "string" | 'string' | number | [datetime] | true | false | null

The parsed tree is compiled to a record predicate by ``simulator.predicates``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op>!=|<=|>=|=|<|>)
      | (?P<punct>[(),])
      | (?P<dq>"(?:[^"\\]|\\.)*")
      | (?P<sq>'(?:[^'\\]|\\.)*')
      | (?P<date>\[[^\]]*\])
      | (?P<number>-?\d+(?:\.\d+)?(?![\w/]))
      | (?P<word>[A-Za-z_][\w/.]*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "contains", "like", "in", "true", "false", "null"}


class ConditionError(ValueError):
    """A conditions string that cannot be parsed or names an unknown field."""


@dataclass(frozen=True, slots=True)
class DateLit:
    """A ``[datetime]`` literal, normalised to ``YYYY-MM-DDTHH:MM:SSZ`` (facts §6)."""

    text: str


@dataclass(frozen=True, slots=True)
class Token:
    """One lexical token with its position in the conditions string."""

    kind: str
    value: Any
    pos: int


@dataclass(frozen=True, slots=True)
class Compare:
    """``path op value``; ``negate`` for ``not contains/like/in``."""

    path: str
    op: str
    value: Any
    negate: bool = False


@dataclass(frozen=True, slots=True)
class BoolOp:
    """``and``/``or`` over two or more nodes."""

    op: str  # "and" | "or"
    items: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """A negated node."""

    item: Any


def parse_datetime(text: str) -> str:
    """Normalise a datetime literal to UTC ``YYYY-MM-DDTHH:MM:SSZ``.

    Naive values are taken as UTC (DJCW sends them that way, facts §6); fractions are cut.
    """
    raw = text.strip()
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ConditionError(f"Invalid datetime [{raw}]; use [2024-01-01T00:00:00Z]") from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def tokenize(text: str) -> list[Token]:
    """Split a conditions string into tokens, or raise ConditionError with the position."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            start = len(text) - len(text[pos:].lstrip())
            snippet = text[start:start + 12]
            if snippet[:1] in "\"'":
                raise ConditionError(f"Unterminated string starting at position {start}")
            raise ConditionError(f"Unexpected character at position {start}: {snippet!r}")
        kind = match.lastgroup or ""
        raw = match.group(kind)
        start = match.start(kind)
        if kind in ("dq", "sq"):
            tokens.append(Token("value", _unquote(raw), start))
        elif kind == "date":
            tokens.append(Token("value", DateLit(parse_datetime(raw[1:-1])), start))
        elif kind == "number":
            tokens.append(Token("value", float(raw) if "." in raw else int(raw), start))
        elif kind == "word" and raw.lower() in _KEYWORDS:
            lowered = raw.lower()
            literal = {"true": True, "false": False, "null": None}
            if lowered in literal:
                tokens.append(Token("value", literal[lowered], start))
            else:
                tokens.append(Token("kw", lowered, start))
        else:
            tokens.append(Token(kind, raw, start))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise ConditionError("Unexpected end of conditions")
        self.index += 1
        return token

    def is_kw(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "kw" and token.value in words

    def parse(self) -> Any:
        if not self.tokens:
            raise ConditionError("Empty conditions")
        node = self.expr()
        token = self.peek()
        if token is not None:
            raise ConditionError(
                f"Unexpected {token.value!r} at position {token.pos}; expected AND, OR or ')'"
            )
        return node

    def expr(self) -> Any:
        items = [self.and_expr()]
        while self.is_kw("or"):
            self.take()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items))

    def and_expr(self) -> Any:
        items = [self.unary()]
        while self.is_kw("and"):
            self.take()
            items.append(self.unary())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items))

    def unary(self) -> Any:
        if self.is_kw("not"):
            self.take()
            return Not(self.unary())
        token = self.take()
        if token.kind == "punct" and token.value == "(":
            node = self.expr()
            closing = self.take()
            if closing.kind != "punct" or closing.value != ")":
                raise ConditionError(f"Expected ')' at position {closing.pos}")
            return node
        if token.kind != "word":
            raise ConditionError(f"Expected a field name at position {token.pos}")
        return self.comparison(token)

    def comparison(self, field: Token) -> Compare:
        negate = False
        if self.is_kw("not"):
            self.take()
            negate = True
            if not self.is_kw("contains", "like", "in"):
                raise ConditionError(
                    f"Expected contains, like or in after 'not' (field {field.value!r})"
                )
        op_token = self.take()
        if op_token.kind == "op" and not negate:
            return Compare(field.value, op_token.value, self.value(field.value, op_token.value))
        if op_token.kind == "kw" and op_token.value in ("contains", "like"):
            value = self.value(field.value, op_token.value)
            if not isinstance(value, str):
                raise ConditionError(f"'{op_token.value}' needs a quoted string for {field.value}")
            return Compare(field.value, op_token.value, value, negate)
        if op_token.kind == "kw" and op_token.value == "in":
            return Compare(field.value, "in", self.value_list(field.value), negate)
        raise ConditionError(
            f"Expected an operator after {field.value!r} at position {op_token.pos}, "
            f"got {op_token.value!r}"
        )

    def value(self, field: str, op: str) -> Any:
        token = self.peek()
        if token is None or token.kind != "value":
            where = f"position {token.pos}" if token else "the end"
            raise ConditionError(f"Expected a value after '{field} {op}' at {where}")
        self.index += 1
        return token.value

    def value_list(self, field: str) -> tuple[Any, ...]:
        opening = self.take()
        if opening.kind != "punct" or opening.value != "(":
            raise ConditionError(f"Expected '(' after '{field} in' at position {opening.pos}")
        values = [self.value(field, "in")]
        while True:
            token = self.take()
            if token.kind == "punct" and token.value == ")":
                return tuple(values)
            if token.kind != "punct" or token.value != ",":
                raise ConditionError(f"Expected ',' or ')' in the in-list at {token.pos}")
            values.append(self.value(field, "in"))


def parse(text: str) -> Any:
    """Parse a conditions string into a tree of Compare/BoolOp/Not nodes."""
    return _Parser(text).parse()


def referenced_paths(node: Any) -> list[str]:
    """Return every field path named in a tree, in order."""
    if isinstance(node, Compare):
        return [node.path]
    if isinstance(node, Not):
        return referenced_paths(node.item)
    return [path for item in node.items for path in referenced_paths(item)]
