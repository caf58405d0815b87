"""Named transforms a mapping file can ask for (``transform: company_type``, ...).

Each is a pure function of one raw ConnectWise record and the mapping settings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectwise.mapping.models import MappingConfig

Record = dict[str, Any]
TransformFn = Callable[[Record, MappingConfig], Any]


def value_at(record: Any, path: str) -> Any:
    """Return the value at a ConnectWise path (``company/id``), or None where it is missing."""
    current = record
    for part in path.split("/"):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current


def default_communication(record: Record, kind: str) -> str | None:
    """Return the default ``Email``/``Phone``/``Fax`` item's value, else the first of its kind."""
    items = [
        item
        for item in record.get("communicationItems") or []
        if isinstance(item, dict) and item.get("communicationType") == kind and item.get("value")
    ]
    if not items:
        return None
    chosen = next((item for item in items if item.get("defaultFlag")), items[0])
    return str(chosen["value"]).strip()


def company_type(record: Record, config: MappingConfig) -> str | None:
    """Resolve a company's several types to one: the first listed in the priority wins.

    Types missing from ``company_type_priority`` rank after the listed ones, in the order
    ConnectWise returns them (the seed: "higher positions take precedence").
    """
    names = [
        str(item.get("name"))
        for item in record.get("types") or []
        if isinstance(item, dict) and item.get("name")
    ]
    if not names:
        return None
    rank = {name.casefold(): index for index, name in enumerate(config.company_type_priority)}
    unlisted = len(rank)
    return min(names, key=lambda name: (rank.get(name.casefold(), unlisted), names.index(name)))


def opportunity_status(record: Record, config: MappingConfig) -> str | None:
    """Map the opportunity's ConnectWise status name to Open, Won or Lost."""
    name = value_at(record, "status/name")
    return config.opportunity_status_map.get(name) if name else None


def sales_stage(record: Record, config: MappingConfig) -> str | None:
    """Map the stage name through ``sales_stage_map``; unmapped stages keep their name."""
    name = value_at(record, "stage/name")
    return config.sales_stage_map.get(name, name) if name else None


def product_status(record: Record, config: MappingConfig) -> str:
    """Map ``inactiveFlag`` to the product status labels of ``product_status_map``."""
    state = "Inactive" if record.get("inactiveFlag") else "Active"
    return config.product_status_map.get(state, state)


def category(record: Record, config: MappingConfig) -> str | None:
    """Map the category name; items without one get ``defaults.category``."""
    name = value_at(record, "category/name") or config.defaults.category
    return config.category_map.get(name, name) if name else None


def product_type(record: Record, config: MappingConfig) -> str | None:
    """Map the product type name; items without one get ``defaults.product_type``."""
    name = value_at(record, "type/name") or config.defaults.product_type
    return config.product_type_map.get(name, name) if name else None


def product_terms(record: Record, config: MappingConfig) -> str:
    """Map the recurring bill cycle to a term; non-recurring items are ``one-time``."""
    if not record.get("recurringFlag"):
        return config.product_terms_map.get("One-time", "one-time")
    cycle = value_at(record, "recurringBillCycle/name") or "Recurring"
    return config.product_terms_map.get(cycle, cycle)


TRANSFORMS: dict[str, TransformFn] = {
    "default_email": lambda record, _: default_communication(record, "Email"),
    "default_phone": lambda record, _: default_communication(record, "Phone"),
    "default_fax": lambda record, _: default_communication(record, "Fax"),
    "company_type": company_type,
    "opportunity_status": opportunity_status,
    "sales_stage": sales_stage,
    "product_status": product_status,
    "category": category,
    "product_type": product_type,
    "product_terms": product_terms,
}
