"""Seeded setup data: static tables, members, product categories and manufacturers."""

from __future__ import annotations

from typing import Any

from simulator import words
from simulator.generator_base import API_MEMBER_IDENTIFIER, Gen, Scale, stamp
from simulator.resources import REGISTRY
from simulator.shapes import info
from simulator.tables import STATIC_TABLES

Record = dict[str, Any]


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
