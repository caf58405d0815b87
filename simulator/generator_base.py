"""Shared pieces of the data generator: scales, the fixed epoch, the ``Gen`` helper."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from simulator.resources import REGISTRY, make_ref
from simulator.shapes import info

Record = dict[str, Any]
EPOCH = 1672531200  # 2023-01-01T00:00:00Z: seeded timestamps fall in [EPOCH, EPOCH + SPAN]
SPAN = 2 * 365 * 86400
API_MEMBER_IDENTIFIER = "SyncAPI"


@dataclass(frozen=True, slots=True)
class Scale:
    """Record counts of one data size."""

    companies: int
    contacts: int
    catalog: int
    manufacturers: int
    categories: int
    subcategories: int
    opportunities: int
    agreements: int
    activities: int
    members: int


SCALES: dict[str, Scale] = {
    "small": Scale(50, 250, 200, 20, 8, 30, 80, 20, 150, 10),
    "medium": Scale(1000, 5000, 5000, 100, 25, 120, 1600, 400, 3000, 25),
    "large": Scale(5000, 25000, 20000, 300, 60, 300, 8000, 2000, 15000, 50),
}


def stamp(seconds: int) -> str:
    """Format seconds after EPOCH as a ConnectWise UTC timestamp (facts §6)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(EPOCH + seconds))


class Gen:
    """Shared helpers: per-collection RNGs, id sequences with gaps, refs and ``_info``."""

    def __init__(self, seed: int, data: dict[str, list[Record]]) -> None:
        self.seed = seed
        self.data = data
        self.updaters: list[str] = ["admin"]
        self._refs: dict[tuple[str, int], Record] = {}

    def rng(self, name: str) -> random.Random:
        """Return the RNG of one collection (string seeds hash deterministically)."""
        return random.Random(f"{self.seed}:{name}")

    @staticmethod
    def ids(rng: random.Random, count: int, start: int = 1) -> list[int]:
        """Return ``count`` increasing ids with occasional gaps (deleted rows)."""
        out, current = [], start
        for _ in range(count):
            out.append(current)
            current += 1 + (rng.randint(1, 7) if rng.random() < 0.03 else 0)
        return out

    def ref(self, collection: str, record: Record | None) -> Record | None:
        """Return the reference object for a record (None stays None).

        Reference dicts are shared between records: stored records are never mutated in
        place (writes copy first), so sharing is safe and saves a second on ``large``.
        """
        if record is None:
            return None
        key = (collection, record["id"])
        ref = self._refs.get(key)
        if ref is None:
            ref = self._refs[key] = make_ref(REGISTRY[collection], record)
        return ref

    def info(self, rng: random.Random, *, entered: bool = True) -> Record:
        """Return ``_info`` with dateEntered ≤ lastUpdated, both inside the seeded window."""
        entered_at = rng.randrange(SPAN - 86400)
        updated_at = rng.randrange(entered_at, SPAN)
        return info(stamp(updated_at), rng.choice(self.updaters),
                    stamp(entered_at) if entered else None)

    def uuid(self, rng: random.Random) -> str:
        """Return a deterministic UUID string."""
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    @staticmethod
    def pick(rng: random.Random, items: Sequence[Any]) -> Any:
        """Return one element (a thin alias that keeps call sites short)."""
        return items[rng.randrange(len(items))]
