"""Seeded companies and contacts (see ``generator`` for the determinism rules)."""

from __future__ import annotations

import random
from typing import Any

from simulator import words
from simulator.generator_base import Gen, stamp
from simulator.resources import REGISTRY

Record = dict[str, Any]
# (type names, weight): most tenants are customers and prospects; some companies carry two
# types (Vendor + Customer, Partner + Customer).
TYPE_MIX = (
    (("Customer",), 45), (("Prospect",), 20), (("Suspect",), 8), (("Vendor",), 6),
    (("Partner",), 4), (("Competition",), 3), (("Not-A-Fit",), 3), (("Unknown",), 4),
    (("Vendor", "Customer"), 4), (("Partner", "Customer"), 3),
)
STATUS_MIX = (("Active", 85), ("Inactive", 7), ("Credit Hold", 3), ("Not-Approved", 2),
              ("Imported", 3))


def _weighted(rng: random.Random, mix: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([m[0] for m in mix], weights=[m[1] for m in mix])[0]


def _company_name(rng: random.Random, index: int) -> str:
    roll = rng.random()
    if roll < 0.04:
        return words.UNICODE_COMPANIES[index % len(words.UNICODE_COMPANIES)]
    if roll < 0.05:
        return words.LONG_COMPANY[: rng.randint(120, 156)].rstrip()
    parts = (Gen.pick(rng, words.COMPANY_PREFIXES), Gen.pick(rng, words.COMPANY_NOUNS),
             Gen.pick(rng, words.COMPANY_SUFFIXES))
    return " ".join(p for p in parts if p)


def _identifier(name: str, used: set[str]) -> str:
    base = "".join(ch for ch in name if ch.isalnum())[:24] or "Company"
    candidate, n = base, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{base}{n}"
    used.add(candidate.lower())
    return candidate


def _set_custom(record: Record, values: dict[int, Any]) -> None:
    for field in record["customFields"]:
        if field["id"] in values:
            field["value"] = values[field["id"]]


def build_companies(gen: Gen, count: int) -> None:
    """Add companies; the first is the owner company of the tenant."""
    rng = gen.rng("company/companies")
    types = {t["name"]: t for t in gen.data["company/companies/types"]}
    statuses = {s["name"]: s for s in gen.data["company/companies/statuses"]}
    markets, locations = gen.data["company/marketDescriptions"], gen.data["system/locations"]
    countries = gen.data["company/countries"]
    used: set[str] = set()
    companies = []
    for index, company_id in enumerate(gen.ids(rng, count, start=2)):
        record = _company(gen, rng, index, company_id, used, (types, statuses, markets,
                                                               locations, countries))
        companies.append(record)
    gen.data["company/companies"] = companies


def _company(gen: Gen, rng: random.Random, index: int, company_id: int, used: set[str],
             lookups: tuple[Any, ...]) -> Record:
    types, statuses, markets, locations, countries = lookups
    record = REGISTRY["company/companies"].blank()
    name = "Acme IT Solutions" if index == 0 else _company_name(rng, index)
    # A few fixed indexes guarantee every kind of mess even at scale "small".
    type_names = (("Owner",) if index == 0 else ("Vendor", "Customer") if index == 5
                  else _weighted(rng, TYPE_MIX))
    city, state, zip_code = gen.pick(rng, words.CITIES)
    deleted = index == 7 or (index > 0 and rng.random() < 0.02)
    record.update(
        id=company_id, identifier=_identifier(name, used), name=name,
        status=gen.ref("company/companies/statuses",
                       statuses["Active" if index == 0 else _weighted(rng, STATUS_MIX)]),
        types=[gen.ref("company/companies/types", types[t]) for t in type_names],
        addressLine1=f"{rng.randint(1, 9999)} {gen.pick(rng, words.STREETS)}",
        addressLine2=f"Suite {rng.randint(100, 900)}" if rng.random() < 0.2 else None,
        city=city, state=state, zip=zip_code,
        country=gen.ref("company/countries", countries[0] if rng.random() < 0.9
                        else gen.pick(rng, countries)),
        phoneNumber=f"{rng.randint(200, 989)}555{rng.randint(1000, 9999)}"
        if rng.random() < 0.9 else "",
        faxNumber=f"{rng.randint(200, 989)}555{rng.randint(1000, 9999)}"
        if rng.random() < 0.15 else "",
        website=f"www.{company_id}.example" if rng.random() < 0.7 else None,
        territory=gen.ref("system/locations", gen.pick(rng, locations)),
        market=gen.ref("company/marketDescriptions", gen.pick(rng, markets))
        if rng.random() < 0.85 else None,
        numberOfEmployees=rng.choice((None, 1, 5, 12, 25, 40, 80, 150, 400, 1200)),
        annualRevenue=float(rng.randint(1, 500) * 10000) if rng.random() < 0.4 else None,
        leadFlag="Prospect" in type_names or "Suspect" in type_names,
        isVendorFlag="Vendor" in type_names, _info=gen.info(rng),
    )
    record["leadSource"] = gen.pick(rng, words.SOURCES) if record["leadFlag"] else None
    if deleted:
        record.update(deletedFlag=True, dateDeleted=record["_info"]["lastUpdated"],
                      deletedBy=record["_info"]["updatedBy"])
    _set_custom(record, {
        3: gen.pick(rng, ("Gold", "Silver", "Bronze")) if rng.random() < 0.4 else None,
        4: rng.randint(100000, 999999) if rng.random() < 0.3 else None,
        5: rng.random() < 0.5 if rng.random() < 0.6 else None,
    })
    return record


def _communication_items(
    gen: Gen, rng: random.Random, first: str, last: str, company: Record | None,
    seen_emails: list[str], next_item: list[int],
) -> list[Record]:
    comm = {c["description"]: c for c in gen.data["company/communicationTypes"]}
    items: list[Record] = []

    def add(kind: str, channel: str, value: str, extension: str | None = None) -> None:
        next_item[0] += 1
        is_first = not any(i["communicationType"] == channel for i in items)
        item = {"id": next_item[0], "type": {"id": comm[kind]["id"], "name": kind},
                "value": value, "extension": extension, "defaultFlag": is_first,
                "communicationType": channel}
        if channel == "Email":
            item["domain"] = "@" + value.split("@", 1)[1]
        items.append(item)

    roll = rng.random()
    if (roll < 0.02 or len(seen_emails) == 20) and seen_emails:
        shared = gen.pick(rng, seen_emails)  # one inbox used by contacts of two companies
        add("Email", "Email", shared)
        seen_emails.append(shared)
    elif roll < 0.90:
        local = "".join(ch for ch in f"{first}.{last}".lower()
                        if ch.isascii() and (ch.isalnum() or ch == "."))
        # A missing or all-non-ASCII name leaves a dot at an end ("ines.@"): not an address.
        local = ".".join(part for part in local.split(".") if part)
        domain = (f"{company['identifier'].lower()[:20]}.example" if company
                  else gen.pick(rng, words.EMAIL_DOMAINS))
        email = f"{local or 'contact'}{rng.randint(1, 99) if rng.random() < 0.2 else ''}@{domain}"
        add("Email", "Email", email)
        seen_emails.append(email)
    if rng.random() < 0.7:
        add("Direct", "Phone", f"{rng.randint(200, 989)}555{rng.randint(1000, 9999)}",
            str(rng.randint(100, 499)) if rng.random() < 0.3 else None)
    if rng.random() < 0.4:
        add("Cell", "Phone", f"{rng.randint(200, 989)}555{rng.randint(1000, 9999)}")
    if rng.random() < 0.05:
        add("Fax", "Fax", f"{rng.randint(200, 989)}555{rng.randint(1000, 9999)}")
    return items


def build_contacts(gen: Gen, count: int) -> None:
    """Add contacts spread over the companies, each company's first one its default."""
    rng = gen.rng("company/contacts")
    companies = gen.data["company/companies"]
    contact_types = gen.data["company/contacts/types"]
    contacts, seen_emails, next_item = [], [], [0]
    defaults: dict[int, Record] = {}
    for contact_id in gen.ids(rng, count, start=2):
        record = REGISTRY["company/contacts"].blank()
        company = gen.pick(rng, companies) if rng.random() < 0.97 else None
        first = gen.pick(rng, words.FIRST_NAMES if rng.random() < 0.99 else words.LONG_FIRST_NAMES)
        last = gen.pick(rng, words.LAST_NAMES if rng.random() < 0.98 else words.LONG_LAST_NAMES)
        if rng.random() < 0.02:
            last = None  # real tenants have contacts with a first name only
        items = _communication_items(gen, rng, first, last or "", company, seen_emails, next_item)
        phone = next((i for i in items if i["communicationType"] == "Phone"), None)
        is_default = company is not None and company["id"] not in defaults
        record.update(
            id=contact_id, firstName=first, lastName=last,
            company=gen.ref("company/companies", company), inactiveFlag=rng.random() < 0.08,
            title=gen.pick(rng, words.TITLES) if rng.random() < 0.6 else None,
            defaultPhoneType=phone["type"]["name"] if phone else None,
            defaultPhoneNbr=phone["value"] if phone else None,
            defaultPhoneExtension=phone["extension"] if phone else None,
            defaultFlag=is_default, communicationItems=items,
            types=[gen.ref("company/contacts/types", gen.pick(rng, contact_types))]
            if rng.random() < 0.6 else [],
            gender=rng.choice((None, None, "Female", "Male")), _info=gen.info(rng),
        )
        _set_custom(record, {
            15: rng.randint(10**6, 10**7) if rng.random() < 0.3 else None,
            16: rng.random() < 0.5 if rng.random() < 0.5 else None,
        })
        if is_default:
            defaults[company["id"]] = record
        contacts.append(record)
    for company in companies:
        contact = defaults.get(company["id"])
        company["defaultContact"] = gen.ref("company/contacts", contact)
    gen.data["company/contacts"] = contacts


def pick_date(rng: random.Random, low_days: int, high_days: int) -> str:
    """Return a midnight UTC date ``low_days``..``high_days`` after the epoch."""
    return stamp(rng.randint(low_days, high_days) * 86400)
