"""The named transforms a mapping can ask for: pure functions of a record and the settings."""

from __future__ import annotations

from typing import Any

import pytest
from connectwise.mapping.models import MappingConfig
from connectwise.mapping.transforms import (
    TRANSFORMS,
    category,
    company_type,
    default_communication,
    opportunity_status,
    product_status,
    product_terms,
    product_type,
    sales_stage,
    value_at,
)


def make_config(**settings: Any) -> MappingConfig:
    """Mapping settings without entity sections (transforms never read them)."""
    return MappingConfig(entities={}, **settings)


def make_item(kind: str, value: str, *, default: bool = False) -> dict[str, Any]:
    """One ConnectWise communication item."""
    return {
        "communicationType": kind,
        "value": value,
        "defaultFlag": default,
        "type": {"name": kind},
    }


def make_company(*types: str) -> dict[str, Any]:
    return {"id": 1, "types": [{"id": index, "name": name} for index, name in enumerate(types, 1)]}


PRIORITY = ["Customer", "Prospect", "Suspect", "Partner", "Vendor"]


# --- value_at --------------------------------------------------------------------------------


def test_value_at_follows_a_nested_path() -> None:
    assert value_at({"company": {"site": {"id": 9}}}, "company/site/id") == 9


def test_value_at_of_a_missing_key_is_none() -> None:
    assert value_at({"company": {}}, "company/id") is None


def test_value_at_through_a_non_object_is_none() -> None:
    assert value_at({"company": "Acme"}, "company/id") is None


# --- default communication -------------------------------------------------------------------


def test_default_email_picks_the_item_with_default_flag() -> None:
    record = {
        "communicationItems": [
            make_item("Email", "first@example.com"),
            make_item("Phone", "555-0100", default=True),
            make_item("Email", "default@example.com", default=True),
        ]
    }
    assert TRANSFORMS["default_email"](record, make_config()) == "default@example.com"


def test_default_email_falls_back_to_the_first_email() -> None:
    record = {
        "communicationItems": [
            make_item("Phone", "555-0100", default=True),
            make_item("Email", "first@example.com"),
            make_item("Email", "second@example.com"),
        ]
    }
    assert TRANSFORMS["default_email"](record, make_config()) == "first@example.com"


def test_default_email_trims_whitespace() -> None:
    record = {"communicationItems": [make_item("Email", "  a@example.com ")]}
    assert default_communication(record, "Email") == "a@example.com"


def test_default_email_skips_items_without_a_value() -> None:
    record = {
        "communicationItems": [make_item("Email", "", default=True), make_item("Email", "b@x.io")]
    }
    assert default_communication(record, "Email") == "b@x.io"


@pytest.mark.parametrize(
    "record",
    [
        {},
        {"communicationItems": None},
        {"communicationItems": []},
        {"communicationItems": [make_item("Phone", "555-0100", default=True)]},
    ],
)
def test_default_email_without_an_email_is_none(record: dict[str, Any]) -> None:
    assert TRANSFORMS["default_email"](record, make_config()) is None


def test_default_phone_picks_the_default_phone_not_the_default_email() -> None:
    record = {
        "communicationItems": [
            make_item("Email", "a@example.com", default=True),
            make_item("Phone", "555-0100"),
            make_item("Phone", "555-0199", default=True),
        ]
    }
    assert TRANSFORMS["default_phone"](record, make_config()) == "555-0199"


# --- company_type ----------------------------------------------------------------------------


def test_company_type_picks_the_type_listed_first_in_the_priority() -> None:
    config = make_config(company_type_priority=PRIORITY)
    assert company_type(make_company("Vendor", "Customer"), config) == "Customer"


def test_company_type_follows_a_reversed_priority() -> None:
    config = make_config(company_type_priority=list(reversed(PRIORITY)))
    assert company_type(make_company("Vendor", "Customer"), config) == "Vendor"


def test_company_type_ranks_unlisted_types_after_listed_ones() -> None:
    config = make_config(company_type_priority=PRIORITY)
    assert company_type(make_company("Reseller", "Vendor"), config) == "Vendor"


def test_company_type_keeps_returned_order_among_unlisted_types() -> None:
    config = make_config(company_type_priority=PRIORITY)
    assert company_type(make_company("Reseller", "Distributor"), config) == "Reseller"


def test_company_type_matches_priority_case_insensitively() -> None:
    config = make_config(company_type_priority=PRIORITY)
    assert company_type(make_company("vendor", "CUSTOMER"), config) == "CUSTOMER"


def test_company_type_without_priority_is_the_first_returned_type() -> None:
    assert company_type(make_company("Vendor", "Customer"), make_config()) == "Vendor"


@pytest.mark.parametrize("record", [{"id": 1}, {"id": 1, "types": []}, make_company()])
def test_company_type_without_types_is_none(record: dict[str, Any]) -> None:
    assert company_type(record, make_config(company_type_priority=PRIORITY)) is None


# --- opportunity status and sales stage ------------------------------------------------------


OPPORTUNITY_MAP = {"Open": "Open", "Won": "Won", "Lost": "Lost", "No Decision": "Lost"}


def test_opportunity_status_maps_the_status_name() -> None:
    config = make_config(opportunity_status_map=OPPORTUNITY_MAP)
    assert opportunity_status({"status": {"name": "No Decision"}}, config) == "Lost"


def test_opportunity_status_of_an_unmapped_name_is_none() -> None:
    config = make_config(opportunity_status_map=OPPORTUNITY_MAP)
    assert opportunity_status({"status": {"name": "Pending"}}, config) is None


def test_opportunity_status_without_a_status_is_none() -> None:
    assert opportunity_status({}, make_config(opportunity_status_map=OPPORTUNITY_MAP)) is None


def test_sales_stage_maps_a_listed_stage() -> None:
    config = make_config(sales_stage_map={"1.Prospect": "Prospecting"})
    assert sales_stage({"stage": {"name": "1.Prospect"}}, config) == "Prospecting"


def test_sales_stage_keeps_the_name_of_an_unmapped_stage() -> None:
    assert sales_stage({"stage": {"name": "2.Quote"}}, make_config()) == "2.Quote"


# --- products --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "status"), [(True, "Inactive"), (False, "Active"), (None, "Active")]
)
def test_product_status_follows_the_inactive_flag(flag: bool | None, status: str) -> None:
    assert product_status({"inactiveFlag": flag}, make_config()) == status


def test_product_status_uses_the_mapped_labels() -> None:
    config = make_config(product_status_map={"Active": "Live", "Inactive": "Retired"})
    assert product_status({"inactiveFlag": True}, config) == "Retired"


def test_category_maps_the_category_name() -> None:
    config = make_config(category_map={"Hardware": "HW"})
    assert category({"category": {"name": "Hardware"}}, config) == "HW"


def test_category_defaults_when_the_item_has_none() -> None:
    config = make_config(defaults={"category": "Misc"})
    assert category({"category": None}, config) == "Misc"


def test_category_without_value_or_default_is_none() -> None:
    assert category({}, make_config()) is None


def test_product_type_defaults_when_the_item_has_none() -> None:
    config = make_config(defaults={"product_type": "Non-Inventory"})
    assert product_type({}, config) == "Non-Inventory"


def test_product_type_maps_the_type_name_before_the_default() -> None:
    config = make_config(
        product_type_map={"Service": "Services"}, defaults={"product_type": "Non-Inventory"}
    )
    assert product_type({"type": {"name": "Service"}}, config) == "Services"


TERMS = {"One-time": "one-time", "Monthly": "monthly", "Annual": "yearly"}


def test_product_terms_of_a_non_recurring_item_is_one_time() -> None:
    config = make_config(product_terms_map=TERMS)
    record = {"recurringFlag": False, "recurringBillCycle": {"name": "Monthly"}}
    assert product_terms(record, config) == "one-time"


def test_product_terms_of_a_recurring_item_is_its_mapped_cycle() -> None:
    config = make_config(product_terms_map=TERMS)
    record = {"recurringFlag": True, "recurringBillCycle": {"name": "Annual"}}
    assert product_terms(record, config) == "yearly"


def test_product_terms_keeps_an_unmapped_cycle_name() -> None:
    config = make_config(product_terms_map=TERMS)
    record = {"recurringFlag": True, "recurringBillCycle": {"name": "Biennial"}}
    assert product_terms(record, config) == "Biennial"


def test_product_terms_of_a_recurring_item_without_cycle_is_recurring() -> None:
    assert product_terms({"recurringFlag": True}, make_config()) == "Recurring"


def test_product_terms_without_a_map_is_one_time() -> None:
    assert product_terms({}, make_config()) == "one-time"


def test_every_declared_transform_is_implemented() -> None:
    from typing import get_args

    from connectwise.mapping.models import Transform

    assert set(get_args(Transform)) == set(TRANSFORMS)
