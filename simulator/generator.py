"""Seeded, deterministic tenant data: same seed and scale → byte-identical records.

Timestamps derive from a fixed epoch, never the wall clock. Each collection draws from its
own RNG (seeded by seed + collection name), so changing one generator leaves the others alone.
The data is deliberately messy: contacts without e-mail, duplicate e-mails across companies,
non-ASCII and very long names, nulls, inactive and soft-deleted records, id gaps.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from simulator import words
from simulator.resources import REGISTRY, make_ref
from simulator.shapes import info
from simulator.tables import STATIC_TABLES

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


def build_static(gen: Gen) -> None:
    """Add every static setup table, with ``_info`` from the fixed epoch."""
    for table in STATIC_TABLES:
        rng = gen.rng(table.collection)
        rows = []
        for values in table.rows:
            record = table.blank()
            record.update(zip(("id", *table.fields), values, strict=True))
            record["_info"] = info(stamp(rng.randrange(86400 * 30)), "admin")
            rows.append(record)
        gen.data[table.collection] = rows
    probabilities = gen.data["sales/probabilities"]
    for index, stage in enumerate(gen.data["sales/stages"]):
        stage["probability"] = gen.ref("sales/probabilities", probabilities[index])


def build_members(gen: Gen, count: int) -> None:
    """Add members: one API member (licenseClass A), a few inactive ones."""
    rng = gen.rng("system/members")
    roles = {r["name"]: r for r in gen.data["system/securityroles"]}
    locations = gen.data["system/locations"]
    members: list[Record] = []
    used: set[str] = set()
    for index, member_id in enumerate(gen.ids(rng, count, start=170)):
        record = REGISTRY["system/members"].blank()
        if index == 0:
            first, last, ident = "API", "Integration", API_MEMBER_IDENTIFIER
            lic, role = "A", "API Integration"
        elif index == 1:
            first, last, ident, lic, role = "Admin", "User", "admin", "F", "Admin"
        else:
            first = gen.pick(rng, words.FIRST_NAMES[:54])
            last = gen.pick(rng, words.LAST_NAMES[:35])
            ident = (first[0] + last)[:13]
            while ident.lower() in used:
                ident = ident[:12] + str(rng.randint(10, 99))
            lic, role = "F", gen.pick(rng, ("Sales", "Service Desk", "Sales"))
        used.add(ident.lower())
        record.update(
            id=member_id, identifier=ident, firstName=first, lastName=last,
            title=None if index < 2 else gen.pick(rng, ("Account Manager", "Engineer")),
            officeEmail=f"{ident.lower()}@acme-it.example", licenseClass=lic,
            inactiveFlag=index > 3 and rng.random() < 0.12, adminFlag=index == 1,
            securityRole=gen.ref("system/securityroles", roles[role]),
            defaultLocation=gen.ref("system/locations", gen.pick(rng, locations)),
            hourlyRate=float(rng.choice((95, 125, 150, 175))), _info=gen.info(rng),
        )
        if record["inactiveFlag"]:
            record["inactiveDate"] = record["_info"]["lastUpdated"]
        members.append(record)
    gen.data["system/members"] = members
    gen.updaters = [m["identifier"] for m in members if m["licenseClass"] == "F"][:8]


def build_product_setup(gen: Gen, scale: Scale) -> None:
    """Add categories (some inactive), subcategories and manufacturers."""
    rng = gen.rng("procurement/categories")
    names = [q + c for q in words.CATEGORY_QUALIFIERS for c in words.CATEGORIES]
    categories = []
    for index, cat_id in enumerate(gen.ids(rng, scale.categories)):
        categories.append({
            "id": cat_id, "name": names[index % len(names)],
            "inactiveFlag": index == scale.categories - 1 or rng.random() < 0.12,
            "priceLevelXref": None, "integrationXref": None, "defaultFlag": index == 0,
            "_info": gen.info(rng, entered=False),
        })
    gen.data["procurement/categories"] = categories
    rng = gen.rng("procurement/subcategories")
    subcategories = []
    for index, sub_id in enumerate(gen.ids(rng, scale.subcategories)):
        category = categories[index % len(categories)]
        subcategories.append({
            "id": sub_id, "name": words.SUBCATEGORIES[index % len(words.SUBCATEGORIES)],
            "category": gen.ref("procurement/categories", category),
            "inactiveFlag": rng.random() < 0.05, "defaultFlag": False, "integrationXref": None,
            "_info": gen.info(rng, entered=False),
        })
    gen.data["procurement/subcategories"] = subcategories
    rng = gen.rng("procurement/manufacturers")
    made = [*words.MANUFACTURERS] + [
        f"{p} {s}" for p in words.MANUFACTURER_PREFIXES for s in words.MANUFACTURER_SUFFIXES
    ]
    gen.data["procurement/manufacturers"] = [
        {"id": man_id, "name": made[index % len(made)], "inactiveFlag": rng.random() < 0.06,
         "_info": gen.info(rng, entered=False)}
        for index, man_id in enumerate(gen.ids(rng, scale.manufacturers))
    ]


def generate(scale: str = "small", seed: int = 1) -> dict[str, list[Record]]:
    """Return every collection of a tenant of the given scale, deterministically."""
    from simulator.generator_parties import build_companies, build_contacts
    from simulator.generator_sales import (
        build_activities,
        build_agreements,
        build_catalog,
        build_opportunities,
    )

    if scale not in SCALES:
        raise ValueError(f"Unknown scale {scale!r}; use one of: {', '.join(SCALES)}")
    size = SCALES[scale]
    gen = Gen(seed, {})
    build_static(gen)
    build_members(gen, size.members)
    build_product_setup(gen, size)
    build_companies(gen, size.companies)
    build_contacts(gen, size.contacts)
    build_catalog(gen, size.catalog)
    build_opportunities(gen, size.opportunities)
    build_activities(gen, size.activities)
    build_agreements(gen, size.agreements)
    gen.data["system/callbacks"] = []
    return gen.data
