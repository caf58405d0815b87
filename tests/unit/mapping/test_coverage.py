"""Which tenant values a mapping leaves uncovered, and what the preflight says about each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from connectwise.mapping.coverage import RULES, UncoveredValue, find_uncovered
from connectwise.mapping.load import Mapping, load_mapping

# A tenant as the setup tables describe it (SETUP_TABLES keys → names).
TENANT = {
    "opportunity_statuses": ["Open", "Won", "Lost", "No Decision", "Pending Review"],
    "sales_stages": ["1.Prospect", "2.Qualification", "3.Quote"],
    "company_types": ["Customer", "Vendor", "Reseller"],
    "product_types": ["Hardware", "Service", "Bundle"],
    "billing_cycles": ["Monthly", "Quarterly", "Annual", "Weekly"],
}


class Tenant:
    """Answers setup-table reads and remembers which tables were asked for."""

    def __init__(self, tables: dict[str, list[str]]) -> None:
        self.tables = tables
        self.read: list[str] = []

    def names(self, table: str) -> list[str]:
        self.read.append(table)
        return self.tables[table]


@pytest.fixture
def mapping_with(
    mapping_document: dict[str, Any], write_mapping: Callable[..., Path]
) -> Callable[..., Mapping]:
    """The shipped mapping with some top-level settings replaced."""

    def load(**settings: Any) -> Mapping:
        return load_mapping(write_mapping({**mapping_document, **settings}))

    return load


def uncovered(mapping: Mapping, tenant: Tenant | None = None) -> dict[str, list[str]]:
    """Setting → the tenant values it leaves out."""
    found: dict[str, list[str]] = {}
    for value in find_uncovered(mapping, (tenant or Tenant(TENANT)).names):
        found.setdefault(value.rule.setting, []).append(value.value)
    return found


def test_shipped_mapping_leaves_out_the_unmapped_status_and_bill_cycle_only(shipped_mapping):
    # sales_stage_map and product_type_map are empty in the shipped file: deliberately quiet.
    assert uncovered(shipped_mapping) == {
        "opportunity_status_map": ["Pending Review"],
        "company_type_priority": ["Reseller"],
        "product_terms_map": ["Weekly"],
    }


def test_an_empty_keep_name_map_reads_no_table(shipped_mapping):
    tenant = Tenant(TENANT)
    uncovered(shipped_mapping, tenant)
    assert "sales_stages" not in tenant.read and "product_types" not in tenant.read


def test_a_keep_name_map_in_use_is_checked_value_by_value(mapping_with):
    mapping = mapping_with(
        sales_stage_map={"1.Prospect": "Lead"}, product_type_map={"Hardware": "Goods"}
    )
    found = uncovered(mapping)
    assert found["sales_stage_map"] == ["2.Qualification", "3.Quote"]
    assert found["product_type_map"] == ["Service", "Bundle"]


def test_an_empty_opportunity_status_map_is_still_checked(mapping_with):
    # Unmapped statuses quarantine: an empty map is never a deliberate choice.
    assert uncovered(mapping_with(opportunity_status_map={}))["opportunity_status_map"] == [
        "Open",
        "Won",
        "Lost",
        "No Decision",
        "Pending Review",
    ]


def test_company_type_priority_compares_names_ignoring_case_as_the_transform_does(mapping_with):
    mapping = mapping_with(company_type_priority=["customer", "VENDOR", "reseller"])
    assert "company_type_priority" not in uncovered(mapping)


def test_a_status_differing_only_in_case_is_uncovered_and_the_fix_says_why(mapping_with):
    mapping = mapping_with(
        opportunity_status_map={
            "Open": "Open",
            "Won": "Won",
            "Lost": "Lost",
            "No decision": "Lost",
            "Pending Review": "Open",
        }
    )
    (value,) = (
        found
        for found in find_uncovered(mapping, Tenant(TENANT).names)
        if found.rule.setting == "opportunity_status_map"
    )
    assert value.value == "No Decision" and value.near_miss == "No decision"
    assert "It has 'No decision', which differs only in case" in value.fix(mapping.config)


def test_only_one_time_in_product_terms_map_keeps_bill_cycles_quiet(mapping_with):
    mapping = mapping_with(product_terms_map={"One-time": "one-time", "Recurring": "recurring"})
    tenant = Tenant(TENANT)
    assert "product_terms_map" not in uncovered(mapping, tenant)
    assert "billing_cycles" not in tenant.read


def test_a_setting_whose_transform_the_mapping_does_not_use_is_not_checked(
    mapping_document, write_mapping
):
    fields = mapping_document["entities"]["opportunities"]["fields"]
    fields["opportunity_status"] = "status/name"  # the raw name, not the transform
    mapping = load_mapping(write_mapping(mapping_document))
    assert "opportunity_status_map" not in uncovered(mapping)


def test_a_value_listed_twice_by_the_tenant_is_reported_once(shipped_mapping):
    tables = {**TENANT, "opportunity_statuses": ["Open", "Pending Review", "Pending Review"]}
    assert uncovered(shipped_mapping, Tenant(tables))["opportunity_status_map"] == [
        "Pending Review"
    ]


def rule(setting: str) -> UncoveredValue:
    (found,) = (r for r in RULES if r.setting == setting)
    return UncoveredValue(found, "Pending Review")


def test_the_opportunity_status_sentence_names_count_value_setting_and_consequence():
    assert rule("opportunity_status_map").describe(43) == (
        "43 opportunities have status 'Pending Review', which opportunity_status_map does not "
        "map: they will be quarantined"
    )


def test_one_record_reads_in_the_singular():
    assert rule("opportunity_status_map").describe(1) == (
        "1 opportunity has status 'Pending Review', which opportunity_status_map does not "
        "map: it will be quarantined"
    )


def test_a_failed_count_says_why_and_still_names_the_consequence():
    text = rule("opportunity_status_map").describe(None, "ConnectWise answered 400")
    assert text == (
        "Could not count the opportunities with status 'Pending Review' (ConnectWise answered "
        "400); opportunity_status_map does not map it: they will be quarantined"
    )


@pytest.mark.parametrize(
    ("setting", "consequence"),
    [
        (
            "sales_stage_map",
            "their stage stays 'Pending Review', and a stage change to it is never written back",
        ),
        (
            "company_type_priority",
            "it ranks after every listed type, so their company_type is 'Pending Review' only "
            "when no listed type applies",
        ),
        ("product_type_map", "their product_type stays 'Pending Review'"),
        ("product_terms_map", "their product_terms will be 'Pending Review'"),
    ],
)
def test_each_keep_name_setting_states_what_the_staged_value_will_be(setting, consequence):
    assert rule(setting).describe(5).endswith(f": {consequence}")


def test_counts_filter_on_the_value_and_the_records_the_setting_applies_to():
    by_setting = {r.setting: UncoveredValue(r, 'Say "hi"') for r in RULES}
    assert by_setting["opportunity_status_map"].count_params() == {
        "conditions": 'status/name = "Say \\"hi\\""'
    }
    # A company's types are an array: ConnectWise filters its members with childConditions.
    assert by_setting["company_type_priority"].count_params() == {
        "childConditions": 'types/name = "Say \\"hi\\""'
    }
    assert by_setting["product_terms_map"].count_params() == {
        "conditions": '(recurringFlag = true) and (recurringBillCycle/name = "Say \\"hi\\"")'
    }
    assert by_setting["product_terms_map"].endpoint == "procurement/catalog"
    assert by_setting["product_terms_map"].name == "billing cycle 'Say \"hi\"'"
