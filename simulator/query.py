"""List queries: field resolution, filtering, ordering, partial responses and paging."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from simulator import conditions as cond
from simulator import predicates
from simulator.errors import bad_request
from simulator.store import Collection

Record = dict[str, Any]
DEFAULT_PAGE_SIZE = 25  # facts §3
MAX_PAGE_SIZE = 1000  # facts §3; larger requests are clamped (over-max behaviour UNCONFIRMED)
_SCHEMA_SAMPLE = 200
_CUSTOM_FIELD_KEYS = ("id", "caption", "type", "entryMethod", "numberOfDecimals", "value")


class FieldSchema:
    """Case-insensitive field paths of one collection, learnt from a template and samples."""

    def __init__(self, samples: Iterable[Record]) -> None:
        self.paths: dict[str, tuple[str, ...]] = {}
        self.names: dict[str, str] = {}
        self.arrays: set[str] = set()
        for record in samples:
            self._walk(record, ())

    def _walk(self, value: Mapping[str, Any], prefix: tuple[str, ...]) -> None:
        for key, item in value.items():
            path = (*prefix, key)
            self.paths.setdefault("/".join(p.lower() for p in path), path)
            self.names.setdefault(key.lower(), key)
            if isinstance(item, dict):
                self._walk(item, path)
            elif isinstance(item, list):
                if not prefix:
                    self.arrays.add(key)
                for element in item[:5]:
                    if isinstance(element, dict):
                        self._walk(element, path)

    def resolve(self, path: str) -> tuple[str, ...]:
        """Map a user path (any case, ``/`` separated) to the record's keys.

        Bare ``lastUpdated`` means ``_info/lastUpdated``: "All objects react to the
        LastUpdated query even if no such field exists" (facts §6).
        """
        parts = [p for p in path.strip().split("/") if p]
        lowered = "/".join(p.lower() for p in parts)
        found = self.paths.get(lowered)
        if found is not None:
            return found
        if len(parts) == 1:
            in_info = self.paths.get(f"_info/{lowered}")
            if in_info is not None:
                return in_info
            if lowered == "lastupdated":
                return ("_info", "lastUpdated")
        elif parts and ("/".join(p.lower() for p in parts[:1])) in self.paths:
            # A reference that is null in every sample (e.g. parentCompany/id) is still valid.
            rest = (self.names.get(p.lower(), p) for p in parts[1:])
            return (self.paths[parts[0].lower()][0], *rest)
        raise cond.ConditionError(f"Unknown field '{path.strip()}'")


def schema_for(collection: Collection, blank: Record) -> FieldSchema:
    """Return the collection's schema, built once from its template and first records."""
    schema = getattr(collection, "schema", None)
    if schema is None:
        samples = [blank, *itertools.islice(iter(collection), _SCHEMA_SAMPLE)]
        schema = FieldSchema(samples)
        collection.schema = schema  # type: ignore[attr-defined]
    return schema


@dataclass(frozen=True, slots=True)
class ListQuery:
    """The query parameters of a list or count request (facts §3, §4)."""

    conditions: str | None = None
    child_conditions: str | None = None
    custom_field_conditions: str | None = None
    order_by: str | None = None
    fields: str | None = None
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    page_id: int | None = None
    forward_only: bool = False


def _int_param(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name.lower())
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise bad_request(f"The {name} parameter must be an integer, got {raw!r}.") from exc


def parse_list_query(params: Mapping[str, str], *, forward_only: bool) -> ListQuery:
    """Read the list parameters (names case-insensitive) into a ListQuery."""
    lowered = {k.lower(): v for k, v in params.items()}
    size = _int_param(lowered, "pageSize")
    page = _int_param(lowered, "page")
    order_by = lowered.get("orderby") or None
    if forward_only and order_by:
        raise bad_request("orderBy is not supported with forward-only pagination; "
                          "records are returned in id order.")
    return ListQuery(
        conditions=lowered.get("conditions") or None,
        child_conditions=lowered.get("childconditions") or None,
        custom_field_conditions=lowered.get("customfieldconditions") or None,
        order_by=order_by,
        fields=lowered.get("fields") or None,
        page=max(page or 1, 1),
        page_size=DEFAULT_PAGE_SIZE if not size or size < 1 else min(size, MAX_PAGE_SIZE),
        page_id=_int_param(lowered, "pageId"),
        forward_only=forward_only,
    )


@dataclass(slots=True)
class IdBounds:
    """Index range and optional id set taken from top-level ``id`` conjuncts."""

    low: int | None = None  # smallest allowed id
    high: int | None = None  # largest allowed id
    only: set[int] | None = None

    def narrow(self, op: str, value: Any) -> bool:
        """Fold one ``id <op> value`` conjunct in; return False when it cannot be folded."""
        if op == "in":
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
                return False
            ids = set(value)
            self.only = ids if self.only is None else self.only & ids
            return True
        if not isinstance(value, int) or isinstance(value, bool) or op == "!=":
            return False
        low = {">": value + 1, ">=": value, "=": value}.get(op)
        high = {"<": value - 1, "<=": value, "=": value}.get(op)
        if low is not None:
            self.low = low if self.low is None else max(self.low, low)
        if high is not None:
            self.high = high if self.high is None else min(self.high, high)
        return True

    def slice(self, ids: list[int]) -> list[int]:
        """Return the sorted ids inside the bounds (bisect, then the id set)."""
        start = 0 if self.low is None else bisect.bisect_left(ids, self.low)
        end = len(ids) if self.high is None else bisect.bisect_right(ids, self.high)
        chosen = ids[start:end]
        if self.only is not None:
            chosen = [i for i in chosen if i in self.only]
        return chosen


def split_id_bounds(node: Any, schema: FieldSchema, bounds: IdBounds) -> Any:
    """Move top-level ``id`` conjuncts into ``bounds``; return what is left (or None)."""
    items = node.items if isinstance(node, cond.BoolOp) and node.op == "and" else (node,)
    rest = []
    for item in items:
        if (
            isinstance(item, cond.Compare)
            and not item.negate
            and schema.resolve(item.path) == ("id",)
            and bounds.narrow(item.op, item.value)
        ):
            continue
        rest.append(item)
    if not rest:
        return None
    return rest[0] if len(rest) == 1 else cond.BoolOp("and", tuple(rest))


def element_predicate(
    text: str, resolve: Callable[[str], tuple[str, ...]], arrays: Callable[[list[str]], list[str]],
    *, allow_in: bool,
) -> Callable[[Record], bool]:
    """Compile conditions that must hold for one element of each named array."""
    node = cond.parse(text)
    names = arrays(cond.referenced_paths(node))
    test = predicates.compile_node(node, resolve, allow_in=allow_in)

    def predicate(record: Record) -> bool:
        lists = [record.get(name) or () for name in names]
        combos = itertools.product(*lists)
        return any(test(dict(zip(names, combo, strict=True))) for combo in combos)

    return predicate


def _child_arrays(schema: FieldSchema) -> Callable[[list[str]], list[str]]:
    def arrays(paths: list[str]) -> list[str]:
        names = []
        for path in paths:
            top = schema.resolve(path)[0]
            if top not in schema.arrays or len(schema.resolve(path)) < 2:
                raise cond.ConditionError(f"childConditions field '{path}' is not in an array")
            if top not in names:
                names.append(top)
        return names

    return arrays


def _custom_resolve(path: str) -> tuple[str, ...]:
    for key in _CUSTOM_FIELD_KEYS:
        if key.lower() == path.strip().lower():
            return ("customFields", key)
    raise cond.ConditionError(f"Unknown custom field property '{path.strip()}'")


def build_predicate(
    query: ListQuery, schema: FieldSchema, bounds: IdBounds
) -> tuple[Callable[[Record], bool] | None, str]:
    """Compile conditions, childConditions and customFieldConditions into one predicate.

    Returns the predicate (None when only ``id`` bounds remain) and a key naming it, so the
    records it matches can be cached independently of the ``id`` bounds of each page.
    """
    parts: list[Callable[[Record], bool]] = []
    key = repr((query.child_conditions, query.custom_field_conditions))
    stage = "conditions"
    try:
        if query.conditions:
            rest = split_id_bounds(cond.parse(query.conditions), schema, bounds)
            if rest is not None:
                parts.append(predicates.compile_node(rest, schema.resolve))
                key += repr(rest)
        stage = "childConditions"
        if query.child_conditions:
            parts.append(element_predicate(
                query.child_conditions, schema.resolve, _child_arrays(schema), allow_in=False))
        stage = "customFieldConditions"
        if query.custom_field_conditions:
            parts.append(element_predicate(
                query.custom_field_conditions, _custom_resolve, lambda _: ["customFields"],
                allow_in=True))
    except cond.ConditionError as exc:
        raise bad_request(f"Invalid {stage}: {exc}") from exc
    if not parts:
        return None, key
    if len(parts) == 1:
        return parts[0], key
    return (lambda record: all(p(record) for p in parts)), key
