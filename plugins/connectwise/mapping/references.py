"""Check that the names a mapping uses exist in the ConnectWise tenant.

Runs in preflight, before any record is synced: each setup table is one small read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from connectwise.conditions import literal
from connectwise.errors import ConnectWiseMappingError

if TYPE_CHECKING:
    from connectwise.hook import ConnectWiseHook
    from connectwise.mapping.load import Mapping


@dataclass(frozen=True)
class NamedSetting:
    """A mapping setting whose values must be names of a ConnectWise setup table."""

    key: str
    endpoint: str
    what: str


SETUP_TABLES = {
    "company_types": NamedSetting("company types", "company/companies/types", "company type"),
    "opportunity_statuses": NamedSetting(
        "opportunity statuses", "sales/opportunities/statuses", "opportunity status"
    ),
    "sales_stages": NamedSetting("sales stages", "sales/stages", "sales stage"),
    "categories": NamedSetting("categories", "procurement/categories", "product category"),
    "product_types": NamedSetting("product types", "procurement/types", "product type"),
}


def used_names(mapping: Mapping) -> dict[str, list[tuple[str, str]]]:
    """Return, per setup table, the (mapping key, name) pairs the mapping refers to."""
    config = mapping.config
    filter_types = [] if config.contact_filter.is_all else list(config.contact_filter.company_types)
    used: dict[str, list[tuple[str, str]]] = {
        "company_types": [
            *(("contact_filter.company_types", name) for name in filter_types),
            *(("company_type_priority", name) for name in config.company_type_priority),
        ],
        "opportunity_statuses": [
            (f"opportunity_status_map[{name!r}]", name) for name in config.opportunity_status_map
        ],
        "sales_stages": [(f"sales_stage_map[{name!r}]", name) for name in config.sales_stage_map],
        "categories": [(f"category_map[{name!r}]", name) for name in config.category_map],
        "product_types": [
            (f"product_type_map[{name!r}]", name) for name in config.product_type_map
        ],
    }
    if config.defaults.category:
        used["categories"].append(("defaults.category", config.defaults.category))
    if config.defaults.product_type:
        used["product_types"].append(("defaults.product_type", config.defaults.product_type))
    return used


def check_references(hook: ConnectWiseHook, mapping: Mapping) -> None:
    """Raise if the mapping names a type, status, stage, category or product that is missing.

    Raises:
        ConnectWiseMappingError: one line per unknown name, with the names that do exist.
    """
    problems: list[str] = []
    for table, uses in used_names(mapping).items():
        if not uses:
            continue
        setting = SETUP_TABLES[table]
        known = _names(hook, setting.endpoint)
        problems.extend(_unknown(uses, known, setting))
    shipping = mapping.config.defaults.shipping_product
    if shipping:
        found = hook.get_json(
            "procurement/catalog",
            params={"conditions": f"identifier = {literal(shipping)}", "fields": "id"},
        )
        if not found:
            problems.append(
                f"defaults.shipping_product: no catalog item has identifier {shipping!r} "
                "in ConnectWise"
            )
    if problems:
        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise ConnectWiseMappingError(
            f"{mapping.path}: names not found in ConnectWise ({hook.site.company_id!r}):\n{lines}"
        )


def _names(hook: ConnectWiseHook, endpoint: str) -> list[str]:
    names: list[str] = []
    for page in hook.paginate(endpoint, fields=["id", "name"]):
        names.extend(str(record.get("name")) for record in page if record.get("name"))
    return names


def _unknown(uses: Iterable[tuple[str, str]], known: list[str], setting: NamedSetting) -> list[str]:
    folded = {name.casefold() for name in known}
    listing = ", ".join(sorted(known)) or "none"
    return [
        f"{key}: {name!r} is not one of the {setting.key} in ConnectWise (known: {listing})"
        for key, name in uses
        if name.casefold() not in folded
    ]
