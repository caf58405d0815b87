"""Seeded, deterministic tenant data: same seed and scale → byte-identical records.

Timestamps derive from a fixed epoch, never the wall clock. Each collection draws from its
own RNG (seeded by seed + collection name), so changing one generator leaves the others alone.
The data is deliberately messy: contacts without e-mail, duplicate e-mails across companies,
non-ASCII and very long names, nulls, inactive and soft-deleted records, id gaps.
"""

from __future__ import annotations

from typing import Any

from simulator.generator_base import (
    API_MEMBER_IDENTIFIER,
    EPOCH,
    SCALES,
    SPAN,
    Gen,
    Scale,
    stamp,
)
from simulator.generator_parties import build_companies, build_contacts
from simulator.generator_sales import (
    build_activities,
    build_agreements,
    build_catalog,
    build_opportunities,
)
from simulator.generator_setup import build_members, build_product_setup, build_static

__all__ = ["API_MEMBER_IDENTIFIER", "EPOCH", "SCALES", "SPAN", "Scale", "generate", "stamp"]
Record = dict[str, Any]


def generate(scale: str = "small", seed: int = 1) -> dict[str, list[Record]]:
    """Return every collection of a tenant of the given scale, deterministically."""
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
