"""Which tenant values a mapping does not cover, and what the sync will do with their records.

A tenant's setup tables (opportunity statuses, sales stages, company types, product types,
billing cycles) can hold names the mapping never mentions. Each :class:`CoverageRule` says
which setting should cover a table, how records carry the value, and the real consequence of
leaving it out (from ``mapping/transforms.py`` and ``quality/suites.py``).

Noise rule: settings whose unmapped values keep their ConnectWise name (``keeps_name``) are
checked only when they name at least one value. An empty ``sales_stage_map`` means "keep every
stage's name" on purpose; once the operator starts mapping, a value left out is likely an
oversight. ``opportunity_status_map`` is always checked: an unmapped status quarantines.

This module reads nothing itself: the preflight hands it the setup names and runs the counts.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from connectwise.client.conditions import all_of, literal
from connectwise.entities import REGISTRY

if TYPE_CHECKING:
    from connectwise.mapping.load import Mapping
    from connectwise.mapping.models import MappingConfig


@dataclass(frozen=True)
class CoverageRule:
    """One setting, the setup table whose names it should cover, and what a gap does."""

    setting: str  # the mapping key
    table: str  # the SETUP_TABLES key holding the tenant's values
    entity: str  # the registry entity whose records carry the value
    transform: str  # the transform applying the setting; a mapping without it is unaffected
    field: str  # where a record holds the value's name, as a condition path
    record: str  # noun for one record, then for several
    records: str
    attribute: str  # "status": "43 opportunities have status 'X'"
    label: str  # what the value is, on its own: "opportunity status"
    consequence: str  # with {they}, {their} and {value}
    fix: str  # with {value} and {ratio} (max_quarantine_ratio)
    covered: Callable[[MappingConfig], Collection[str]]
    verb: str = "map"  # "which opportunity_status_map does not map"
    keeps_name: bool = True
    in_array: bool = False  # the value is one element of an array: count with childConditions
    scope: str | None = None  # which of the entity's records the setting applies to
    ignore_case: bool = False  # how the transform compares names
    pseudo_keys: frozenset[str] = frozenset()  # keys that name no tenant value


RULES: tuple[CoverageRule, ...] = (
    CoverageRule(
        setting="opportunity_status_map",
        table="opportunity_statuses",
        entity="opportunities",
        transform="opportunity_status",
        field="status/name",
        record="opportunity",
        records="opportunities",
        attribute="status",
        label="opportunity status",
        consequence="{they} will be quarantined",
        fix=(
            "Add {value!r} to opportunity_status_map as Open, Won or Lost before the sync. "
            "A run fails when more than max_quarantine_ratio ({ratio:.0%}) of its records are "
            "quarantined."
        ),
        covered=lambda config: config.opportunity_status_map,
        keeps_name=False,
    ),
    CoverageRule(
        setting="sales_stage_map",
        table="sales_stages",
        entity="opportunities",
        transform="sales_stage",
        field="stage/name",
        record="opportunity",
        records="opportunities",
        attribute="sales stage",
        label="sales stage",
        consequence=(
            "{their} stage stays {value!r}, and a stage change to it is never written back"
        ),
        fix="Map {value!r} in sales_stage_map (to itself to keep the name).",
        covered=lambda config: config.sales_stage_map,
    ),
    CoverageRule(
        setting="company_type_priority",
        table="company_types",
        entity="companies",
        transform="company_type",
        field="types/name",
        record="company",
        records="companies",
        attribute="type",
        label="company type",
        verb="list",
        consequence=(
            "it ranks after every listed type, so {their} company_type is {value!r} only "
            "when no listed type applies"
        ),
        fix="List {value!r} in company_type_priority where it should rank.",
        covered=lambda config: config.company_type_priority,
        in_array=True,
        ignore_case=True,
    ),
    CoverageRule(
        setting="product_type_map",
        table="product_types",
        entity="catalog_items",
        transform="product_type",
        field="type/name",
        record="catalog item",
        records="catalog items",
        attribute="product type",
        label="product type",
        consequence="{their} product_type stays {value!r}",
        fix="Map {value!r} in product_type_map (to itself to keep the name).",
        covered=lambda config: config.product_type_map,
    ),
    CoverageRule(
        setting="product_terms_map",
        table="billing_cycles",
        entity="catalog_items",
        transform="product_terms",
        field="recurringBillCycle/name",
        record="recurring catalog item",
        records="recurring catalog items",
        attribute="bill cycle",
        label="billing cycle",
        consequence="{their} product_terms will be {value!r}",
        fix="Map {value!r} in product_terms_map to the term it stands for.",
        covered=lambda config: config.product_terms_map,
        scope="recurringFlag = true",
        # The transform's own names for items without a tenant cycle.
        pseudo_keys=frozenset({"One-time", "Recurring"}),
    ),
)


@dataclass(frozen=True)
class UncoveredValue:
    """A tenant value the mapping does not cover; its records are counted by the preflight."""

    rule: CoverageRule
    value: str
    near_miss: str | None = None  # a covered name equal to this one but for case

    @property
    def endpoint(self) -> str:
        """The collection whose records carry the value."""
        return REGISTRY[self.rule.entity].endpoint

    @property
    def name(self) -> str:
        """The checklist item's name, unique per run: ``opportunity status 'Pending Review'``."""
        return f"{self.rule.label} {self.value!r}"

    def count_params(self) -> dict[str, str]:
        """Query parameters of ``GET {endpoint}/count`` for the records using the value."""
        clause = f"{self.rule.field} = {literal(self.value)}"
        if self.rule.in_array:
            params = {"childConditions": clause}
            return {**params, "conditions": self.rule.scope} if self.rule.scope else params
        return {"conditions": all_of(self.rule.scope, clause) or clause}

    def describe(self, count: int | None, why: str = "") -> str:
        """Say how many records use the value and what the sync will do with them."""
        rule = self.rule
        one = count == 1
        consequence = rule.consequence.format(
            they="it" if one else "they", their="its" if one else "their", value=self.value
        )
        if count is None:
            return (
                f"Could not count the {rule.records} with {rule.attribute} {self.value!r} "
                f"({why}); {rule.setting} does not {rule.verb} it: {consequence}"
            )
        noun, have = (rule.record, "has") if one else (rule.records, "have")
        return (
            f"{count} {noun} {have} {rule.attribute} {self.value!r}, which {rule.setting} "
            f"does not {rule.verb}: {consequence}"
        )

    def fix(self, config: MappingConfig) -> str:
        """Say what to change in the mapping file."""
        text = self.rule.fix.format(value=self.value, ratio=config.settings.max_quarantine_ratio)
        if self.near_miss is not None:
            text += (
                f" It has {self.near_miss!r}, which differs only in case: names must match exactly."
            )
        return text


def find_uncovered(
    mapping: Mapping, tenant_names: Callable[[str], Collection[str]]
) -> list[UncoveredValue]:
    """Return the tenant values each applicable rule's setting leaves out.

    Args:
        mapping: the loaded mapping file.
        tenant_names: the names of one setup table (``SETUP_TABLES`` key); called only for
            the tables of rules that apply, so a quiet setting costs no read.
    """
    found: list[UncoveredValue] = []
    for rule in RULES:
        if not _applies(rule, mapping):
            continue
        covered = list(rule.covered(mapping.config))
        for value in dict.fromkeys(tenant_names(rule.table)):
            if not _is_covered(rule, value, covered):
                found.append(UncoveredValue(rule, value, _near_miss(rule, value, covered)))
    return found


def _applies(rule: CoverageRule, mapping: Mapping) -> bool:
    """Tell whether the rule's setting shapes any staged column and is worth checking."""
    if not mapping.is_enabled(rule.entity):
        return False
    fields = mapping.fields_of(rule.entity).values()
    if not any(spec.transform == rule.transform for spec in fields):
        return False
    names_a_value = set(rule.covered(mapping.config)) - rule.pseudo_keys
    return bool(names_a_value) or not rule.keeps_name


def _is_covered(rule: CoverageRule, value: str, covered: list[str]) -> bool:
    if rule.ignore_case:
        return value.casefold() in {name.casefold() for name in covered}
    return value in covered


def _near_miss(rule: CoverageRule, value: str, covered: list[str]) -> str | None:
    if rule.ignore_case:
        return None
    return next((name for name in covered if name.casefold() == value.casefold()), None)
