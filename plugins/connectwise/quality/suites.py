"""The quality suite of every entity, declared as data.

Every suite also checks that ``id`` is unique within the chunk (added by :func:`checks_for`;
a record without a usable id never gets this far: the mapper quarantines it); references to
other entities come from the registry's ``references``.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectwise.entities import Entity
from connectwise.mapping.transforms import value_at
from connectwise.quality.checks import (
    Check,
    InMappedSet,
    NonNegative,
    NotNull,
    References,
    Unique,
    ValidEmail,
)


@dataclass(frozen=True)
class SuiteSpec:
    """The checks of one entity beyond the common ones."""

    entity: str
    checks: tuple[Check, ...] = ()


SUITES: dict[str, SuiteSpec] = {
    spec.entity: spec
    for spec in (
        SuiteSpec("company_types", (NotNull("name"),)),
        SuiteSpec("company_statuses", (NotNull("name"),)),
        SuiteSpec("categories", (NotNull("name"),)),
        SuiteSpec("subcategories", (NotNull("name"),)),
        SuiteSpec("contacts", (NotNull("first_name"), ValidEmail("email"))),
        SuiteSpec("companies", (NotNull("identifier"), NotNull("name"))),
        SuiteSpec("manufacturers", (NotNull("name"),)),
        SuiteSpec("product_types", (NotNull("name"),)),
        SuiteSpec(
            "catalog_items",
            (
                NotNull("identifier"),
                NonNegative("price"),
                NonNegative("cost"),
                InMappedSet(
                    "product_status",
                    setting="product_status_map",
                    label="product state",
                    source=lambda record: "Inactive" if record.get("inactiveFlag") else "Active",
                    allowed=lambda mapping: list(mapping.product_status_map.values()),
                ),
            ),
        ),
        SuiteSpec("members", (NotNull("identifier"), ValidEmail("email"))),
        SuiteSpec("opportunity_statuses", (NotNull("name"),)),
        SuiteSpec("sales_stages", (NotNull("name"),)),
        SuiteSpec(
            "opportunities",
            (
                NotNull("name"),
                InMappedSet(
                    "opportunity_status",
                    setting="opportunity_status_map",
                    label="status",
                    source=lambda record: value_at(record, "status/name"),
                    allowed=lambda _mapping: ["Open", "Won", "Lost"],
                ),
            ),
        ),
        SuiteSpec("agreements", (NotNull("name"),)),
        SuiteSpec(
            "agreement_additions",
            (NotNull("product_id"), NonNegative("quantity"), NonNegative("unit_price")),
        ),
    )
}


def checks_for(entity: Entity) -> list[Check]:
    """All checks of ``entity``: id unique, its suite, and its references."""
    spec = SUITES.get(entity.quality_suite, SuiteSpec(entity.name))
    references = [References(ref.column, ref.entity) for ref in entity.references]
    return [Unique("id"), *spec.checks, *references]
