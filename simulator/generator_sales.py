"""Seeded catalog, opportunities with forecasts, activities, agreements with additions."""

from __future__ import annotations

import random
from typing import Any

from simulator import words
from simulator.generator_base import SPAN, Gen, stamp
from simulator.generator_parties import pick_date
from simulator.resources import REGISTRY

Record = dict[str, Any]
_DAYS = SPAN // 86400


def _by_name(gen: Gen, collection: str, field: str = "name") -> dict[str, Record]:
    return {r[field]: r for r in gen.data[collection]}


def _company_contacts(gen: Gen) -> dict[int, list[Record]]:
    by_company: dict[int, list[Record]] = {}
    for contact in gen.data["company/contacts"]:
        if contact["company"] is not None:
            by_company.setdefault(contact["company"]["id"], []).append(contact)
    return by_company


def build_catalog(gen: Gen, count: int) -> None:
    """Add catalog items; some sit in inactive categories, a few have no cost."""
    rng = gen.rng("procurement/catalog")
    subcategories = gen.data["procurement/subcategories"]
    categories = {c["id"]: c for c in gen.data["procurement/categories"]}
    manufacturers = gen.data["procurement/manufacturers"]
    types = _by_name(gen, "procurement/types")
    units = gen.data["procurement/unitOfMeasures"]
    vendors = [c for c in gen.data["company/companies"]
               if any(t["name"] == "Vendor" for t in c["types"])]
    items = []
    for catalog_id in gen.ids(rng, count, start=100):
        record = REGISTRY["procurement/catalog"].blank()
        sub = gen.pick(rng, subcategories)
        maker = gen.pick(rng, manufacturers)
        product = gen.pick(rng, words.PRODUCT_WORDS)
        service = "Hour" in product or "Service" in product
        recurring = not service and rng.random() < 0.2
        kind = "Service" if service else gen.pick(rng, ("Hardware", "Non-Inventory", "Software"))
        price = round(rng.uniform(5, 4000), 2) if rng.random() < 0.97 else 0.0
        code = "".join(ch for ch in maker["name"] if ch.isalnum())[:6].upper()
        record.update(
            id=catalog_id, identifier=f"{code}-{catalog_id}",
            description=f"{maker['name']} {product}"[:60], inactiveFlag=rng.random() < 0.05,
            category=gen.ref("procurement/categories", categories[sub["category"]["id"]]),
            subcategory=gen.ref("procurement/subcategories", sub),
            type=gen.ref("procurement/types", types[kind]),
            productClass="Service" if service else gen.pick(rng, ("Inventory", "NonInventory")),
            unitOfMeasure=gen.ref("procurement/unitOfMeasures",
                                  units[1] if service else units[3] if recurring else units[0]),
            price=price,
            cost=None if rng.random() < 0.03 else round(price * rng.uniform(0.5, 0.9), 2),
            taxableFlag=not service, customerDescription=f"{product} by {maker['name']}",
            manufacturer=gen.ref("procurement/manufacturers", maker),
            manufacturerPartNumber=(f"{code}{rng.randint(10000, 99999)}"
                                    if rng.random() < 0.8 else None),
            vendor=gen.ref("company/companies", gen.pick(rng, vendors))
            if vendors and rng.random() < 0.5 else None,
            recurringFlag=recurring, recurringRevenue=price if recurring else 0.0,
            recurringCost=round(price * 0.7, 2) if recurring else 0.0,
            _info=gen.info(rng),
        )
        record["dateEntered"] = record["_info"]["dateEntered"]
        items.append(record)
    gen.data["procurement/catalog"] = items


def _open_status(status: Record) -> bool:
    return not status["closedFlag"]


def build_opportunities(gen: Gen, count: int) -> None:
    """Add opportunities and 0-3 forecast items each."""
    rng = gen.rng("sales/opportunities")
    statuses = gen.data["sales/opportunities/statuses"]
    stages, types = gen.data["sales/stages"], gen.data["sales/opportunities/types"]
    probabilities = gen.data["sales/probabilities"]
    reps = [m for m in gen.data["system/members"] if m["licenseClass"] == "F"]
    companies = gen.data["company/companies"][1:]  # not the owner company
    contacts = _company_contacts(gen)
    opportunities = []
    for opp_id in gen.ids(rng, count, start=2):
        record = REGISTRY["sales/opportunities"].blank()
        company = gen.pick(rng, companies)
        status = rng.choices(statuses, weights=(55, 20, 18, 7))[0]
        contact = gen.pick(rng, contacts[company["id"]]) if company["id"] in contacts else None
        record.update(
            id=opp_id, name=f"{company['name'][:60]} - {gen.pick(rng, words.OPPORTUNITY_TOPICS)}",
            expectedCloseDate=pick_date(rng, 30, _DAYS + 120),
            type=gen.ref("sales/opportunities/types", gen.pick(rng, types)),
            stage=gen.ref("sales/stages", gen.pick(rng, stages)),
            status=gen.ref("sales/opportunities/statuses", status),
            probability=gen.ref("sales/probabilities", gen.pick(rng, probabilities)),
            source=gen.pick(rng, words.SOURCES),
            primarySalesRep=gen.ref("system/members", gen.pick(rng, reps)),
            company=gen.ref("company/companies", company),
            contact=gen.ref("company/contacts", contact),
            notes="Customer asked for a second quote." if rng.random() < 0.2 else None,
            _info=gen.info(rng),
        )
        if not _open_status(status):
            record["closedDate"] = record["_info"]["lastUpdated"]
            record["closedBy"] = record["primarySalesRep"]
        record["customFields"][0]["value"] = gen.pick(rng, ("Web", "Partner", None))
        opportunities.append(record)
    gen.data["sales/opportunities"] = opportunities
    _build_forecast_items(gen, opportunities)


def _build_forecast_items(gen: Gen, opportunities: list[Record]) -> None:
    rng = gen.rng("sales/opportunities/forecast")
    catalog = gen.data["procurement/catalog"]
    statuses = {s["id"]: s for s in gen.data["sales/opportunities/statuses"]}
    items, next_id = [], 1
    for opportunity in opportunities:
        for sequence in range(rng.choice((0, 1, 1, 2, 3))):
            record = REGISTRY["sales/opportunities/forecast"].blank()
            product = gen.pick(rng, catalog)
            quantity = float(rng.randint(1, 20))
            revenue = round(product["price"] * quantity, 2)
            cost = round((product["cost"] or 0.0) * quantity, 2)
            record.update(
                id=next_id, forecastDescription=product["description"][:50],
                opportunity=gen.ref("sales/opportunities", opportunity), quantity=quantity,
                status=gen.ref("sales/opportunities/statuses",
                               statuses[opportunity["status"]["id"]]),
                catalogItem=gen.ref("procurement/catalog", product),
                productDescription=product["customerDescription"],
                productClass=product["productClass"], revenue=revenue, cost=cost,
                margin=round(revenue - cost, 2),
                percentage=round(100 * (revenue - cost) / revenue, 2) if revenue else 0.0,
                sequenceNumber=sequence + 1, taxableFlag=product["taxableFlag"],
                forecastType="Service" if product["productClass"] == "Service" else "Product",
                _info=gen.info(rng),
            )
            items.append(record)
            next_id += 1 + (rng.randint(1, 4) if rng.random() < 0.03 else 0)
    gen.data["sales/opportunities/forecast"] = items


def build_activities(gen: Gen, count: int) -> None:
    """Add sales activities; some are assigned to inactive members (dangling in practice)."""
    rng = gen.rng("sales/activities")
    members = gen.data["system/members"][1:]
    statuses, types = gen.data["sales/activities/statuses"], gen.data["sales/activities/types"]
    opportunities = gen.data["sales/opportunities"]
    contacts = _company_contacts(gen)
    companies = gen.data["company/companies"]
    company_by_id = {c["id"]: c for c in companies}
    activities = []
    for activity_id in gen.ids(rng, count, start=10):
        record = REGISTRY["sales/activities"].blank()
        opportunity = gen.pick(rng, opportunities) if rng.random() < 0.4 else None
        company = (company_by_id[opportunity["company"]["id"]] if opportunity
                   else gen.pick(rng, companies))
        people = contacts.get(company["id"], []) if company else []
        start = rng.randrange(SPAN)
        record.update(
            id=activity_id, name=gen.pick(rng, words.ACTIVITY_TOPICS),
            type=gen.ref("sales/activities/types", gen.pick(rng, types)),
            company=gen.ref("company/companies", company),
            contact=gen.ref("company/contacts", gen.pick(rng, people)) if people else None,
            status=gen.ref("sales/activities/statuses", statuses[rng.random() < 0.6]),
            opportunity=gen.ref("sales/opportunities", opportunity),
            notes=None if rng.random() < 0.5 else "Left a voicemail.",
            dateStart=stamp(start), dateEnd=stamp(start + 1800),
            assignedBy=gen.ref("system/members", gen.pick(rng, members)),
            assignTo=gen.ref("system/members", gen.pick(rng, members)), _info=gen.info(rng),
        )
        activities.append(record)
    gen.data["sales/activities"] = activities


def _addition(gen: Gen, rng: random.Random, record_id: int, agreement: Record) -> Record:
    product = gen.pick(rng, gen.data["procurement/catalog"])
    quantity = float(rng.randint(1, 50))
    record = REGISTRY["finance/agreements/additions"].blank()
    record.update(
        id=record_id, product=gen.ref("procurement/catalog", product), quantity=quantity,
        unitPrice=product["price"], unitCost=product["cost"] or 0.0,
        billCustomer=rng.choices(("Billable", "DoNotBill", "NoCharge"), weights=(85, 10, 5))[0],
        effectiveDate=agreement["startDate"], taxableFlag=product["taxableFlag"],
        agreementId=agreement["id"], description=product["description"],
        extPrice=round(product["price"] * quantity, 2),
        extCost=round((product["cost"] or 0.0) * quantity, 2),
        agreementStatus=agreement["agreementStatus"], _info=gen.info(rng),
    )
    record["margin"] = round(record["extPrice"] - record["extCost"], 2)
    if agreement["cancelledFlag"]:
        record["cancelledDate"] = agreement["dateCancelled"]
    return record


def build_agreements(gen: Gen, count: int) -> None:
    """Add agreements (a few cancelled) and 1-4 additions each."""
    rng = gen.rng("finance/agreements")
    types = gen.data["finance/agreements/types"]
    cycles = gen.data["finance/billingCycles"]
    contacts = _company_contacts(gen)
    customers = [c for c in gen.data["company/companies"] if c["id"] in contacts]
    agreements, additions, addition_id = [], [], 1
    add_rng = gen.rng("finance/agreements/additions")
    for agreement_id in gen.ids(rng, count, start=1):
        record = REGISTRY["finance/agreements"].blank()
        company = gen.pick(rng, customers)
        agreement_type = gen.pick(rng, types)
        cancelled = rng.random() < 0.05
        record.update(
            id=agreement_id, name=f"{company['name'][:60]} - {agreement_type['name']}",
            type=gen.ref("finance/agreements/types", agreement_type),
            company=gen.ref("company/companies", company),
            contact=gen.ref("company/contacts", gen.pick(rng, contacts[company["id"]])),
            startDate=pick_date(rng, 0, _DAYS - 60), noEndingDateFlag=rng.random() < 0.5,
            cancelledFlag=cancelled, billingCycle=gen.ref("finance/billingCycles", cycles[1]),
            billAmount=float(rng.choice((0, 500, 1000, 2500, 10000))),
            compHourlyRate=float(rng.choice((0, 125, 150))),
            agreementStatus=("Cancelled" if cancelled
                             else rng.choice(("Active",) * 9 + ("Expired",))),
            _info=gen.info(rng),
        )
        if not record["noEndingDateFlag"]:
            record["endDate"] = pick_date(rng, _DAYS - 30, _DAYS + 700)
        if cancelled:
            record["dateCancelled"] = record["_info"]["lastUpdated"]
        agreements.append(record)
        for _ in range(add_rng.randint(1, 4)):
            additions.append(_addition(gen, add_rng, addition_id, record))
            addition_id += 1 + (add_rng.randint(1, 3) if add_rng.random() < 0.03 else 0)
    gen.data["finance/agreements"] = agreements
    gen.data["finance/agreements/additions"] = additions
