"""Check that the names a mapping uses exist in the ConnectWise tenant.

Runs in preflight, before any record is synced: each setup table is one small read, made at most
once per preflight (:class:`SetupNames`) and shared with the coverage warnings
(``mapping/coverage.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from connectwise import endpoints
from connectwise.client.conditions import literal
from connectwise.errors import ConnectWiseMappingError

if TYPE_CHECKING:
    from connectwise.client.hook import ConnectWiseHook
    from connectwise.mapping.load import Mapping


@dataclass(frozen=True)
class NamedSetting:
    """A mapping setting whose values must be names of a ConnectWise setup table."""

    key: str
    endpoint: str
    what: str


SETUP_TABLES = {
    "company_types": NamedSetting("company types", endpoints.COMPANY_TYPES, "company type"),
    "opportunity_statuses": NamedSetting(
        "opportunity statuses", endpoints.OPPORTUNITY_STATUSES, "opportunity status"
    ),
    "sales_stages": NamedSetting("sales stages", endpoints.SALES_STAGES, "sales stage"),
    "categories": NamedSetting("categories", endpoints.CATEGORIES, "product category"),
    "product_types": NamedSetting("product types", endpoints.PRODUCT_TYPES, "product type"),
    # Read for the coverage warnings only: product_terms_map keys are not checked to exist.
    "billing_cycles": NamedSetting("billing cycles", endpoints.BILLING_CYCLES, "billing cycle"),
}

TABLE_BY_ENDPOINT = {setting.endpoint: table for table, setting in SETUP_TABLES.items()}


class SetupNames:
    """The names in the tenant's setup tables (``SETUP_TABLES`` keys), each read at most once."""

    def __init__(self, hook: ConnectWiseHook) -> None:
        self._hook = hook
        self._read: dict[str, list[str]] = {}

    def of(self, table: str) -> list[str]:
        """Return the names of one setup table, reading it on first use."""
        if table not in self._read:
            self._read[table] = _names(self._hook, SETUP_TABLES[table].endpoint)
        return self._read[table]


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


def check_references(
    hook: ConnectWiseHook, mapping: Mapping, names: SetupNames | None = None
) -> None:
    """Raise if the mapping names a type, status, stage, category or product that is missing.

    Args:
        hook: the tenant's API.
        mapping: the loaded mapping file.
        names: setup tables already read (or to be reused later) by the same preflight.

    Raises:
        ConnectWiseMappingError: one line per unknown name, with the names that do exist.
    """
    tenant = names or SetupNames(hook)
    problems: list[str] = []
    for table, uses in used_names(mapping).items():
        if uses:
            problems.extend(_unknown(uses, tenant.of(table), SETUP_TABLES[table]))
    shipping = mapping.config.defaults.shipping_product
    if shipping:
        found = hook.get_json(
            endpoints.CATALOG,
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
