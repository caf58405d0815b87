"""Thread-safe in-memory collections kept sorted by id, with a per-record JSON cache."""

from __future__ import annotations

import bisect
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

Record = dict[str, Any]
QUERY_CACHE_SIZE = 16


def encode(value: Any) -> bytes:
    """Serialise like the API: compact JSON, UTF-8, non-ASCII kept as is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


class Collection:
    """Records of one collection, ordered by id.

    Records are never mutated in place: a write stores a new dict, so a reader holding an old
    one keeps a consistent snapshot. ``version`` changes on every write and keys the query
    cache.
    """

    def __init__(self, name: str, records: Iterable[Record] = ()) -> None:
        self.name = name
        self.rows: dict[int, Record] = {r["id"]: r for r in records}
        self.ids: list[int] = sorted(self.rows)
        self.next_id = (self.ids[-1] if self.ids else 0) + 1
        self.version = 0
        self._json: dict[int, bytes] = {}
        self.query_cache: OrderedDict[tuple[Any, ...], list[int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.ids)

    def get(self, record_id: int) -> Record | None:
        """Return the record with this id, or None."""
        return self.rows.get(record_id)

    def json_bytes(self, record_id: int) -> bytes:
        """Return the cached serialised record, encoding it on first use."""
        cached = self._json.get(record_id)
        if cached is None:
            cached = encode(self.rows[record_id])
            self._json[record_id] = cached
        return cached

    def allocate_id(self) -> int:
        """Return a fresh id; ids are never reused after a delete."""
        new_id = self.next_id
        self.next_id += 1
        return new_id

    def put(self, record: Record) -> None:
        """Insert or replace a record and invalidate its cached JSON."""
        record_id = record["id"]
        if record_id not in self.rows:
            bisect.insort(self.ids, record_id)
            self.next_id = max(self.next_id, record_id + 1)
        self.rows[record_id] = record
        self._json.pop(record_id, None)
        self._changed()

    def remove(self, record_id: int) -> Record | None:
        """Delete a record; return it, or None when it did not exist."""
        record = self.rows.pop(record_id, None)
        if record is not None:
            index = bisect.bisect_left(self.ids, record_id)
            del self.ids[index]
            self._json.pop(record_id, None)
            self._changed()
        return record

    def _changed(self) -> None:
        self.version += 1
        self.query_cache.clear()

    def cached_query(self, key: tuple[Any, ...]) -> list[int] | None:
        """Return the id list cached for a query key at the current version."""
        hit = self.query_cache.get(key)
        if hit is not None:
            self.query_cache.move_to_end(key)
        return hit

    def remember_query(self, key: tuple[Any, ...], ids: list[int]) -> None:
        """Cache an id list for a query key (small LRU)."""
        self.query_cache[key] = ids
        while len(self.query_cache) > QUERY_CACHE_SIZE:
            self.query_cache.popitem(last=False)

    def __iter__(self) -> Iterator[Record]:
        rows = self.rows
        return (rows[i] for i in self.ids)


class Store:
    """All collections of one simulated tenant behind one re-entrant lock."""

    def __init__(self, collections: dict[str, list[Record]]) -> None:
        self.lock = threading.RLock()
        self.collections: dict[str, Collection] = {
            name: Collection(name, records) for name, records in collections.items()
        }
        self.meta: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Collection:
        return self.collections[name]

    def __contains__(self, name: object) -> bool:
        return name in self.collections

    def find_by(self, name: str, field: str, value: Any) -> Record | None:
        """Return the first record whose ``field`` equals ``value`` (case-insensitive text)."""
        wanted = value.casefold() if isinstance(value, str) else value
        for record in self.collections[name]:
            current = record.get(field)
            if isinstance(current, str):
                current = current.casefold()
            if current == wanted:
                return record
        return None
