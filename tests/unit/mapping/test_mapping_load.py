"""Loading and validating mapping files: every mistake names the file, the key and the fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from connectwise.entities import REGISTRY
from connectwise.errors import ConnectWiseMappingError
from connectwise.mapping.load import Mapping, load_mapping
from connectwise.mapping.models import SYNC_INTERVAL_SCHEDULES, FieldSpec

WriteMapping = Callable[..., Path]


def load_error(path: Path) -> str:
    """Load ``path`` expecting a mapping error; return its message."""
    with pytest.raises(ConnectWiseMappingError) as caught:
        load_mapping(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:"), message
    return message


# --- the shipped file and its version ---------------------------------------------------------


def test_shipped_mapping_has_a_section_for_every_registered_entity(
    shipped_mapping: Mapping,
) -> None:
    required = {name for name, entity in REGISTRY.entities.items() if not entity.optional}
    assert set(shipped_mapping.config.entities) == required
    assert not shipped_mapping.is_enabled("agreement_additions")  # opt-in, commented out


def test_shipped_mapping_has_every_required_column(shipped_mapping: Mapping) -> None:
    for entity in REGISTRY:
        if shipped_mapping.is_enabled(entity.name):
            fields = shipped_mapping.fields_of(entity.name)
            assert set(entity.required_columns) <= set(fields), entity.name


def test_shipped_mapping_version_is_label_at_content_hash(shipped_mapping: Mapping) -> None:
    label, _, digest = shipped_mapping.version.partition("@")
    assert label == "seed-recommended"
    assert len(digest) == 12
    assert int(digest, 16) >= 0


def test_default_mapping_is_the_shipped_file(shipped_mapping: Mapping) -> None:
    assert load_mapping().version == shipped_mapping.version


def test_mapping_version_is_stable_for_the_same_content(
    mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    first = load_mapping(write_mapping(mapping_document, "a.yaml"))
    second = load_mapping(write_mapping(mapping_document, "b.yaml"))
    assert first.version == second.version


def test_mapping_version_ignores_comments_and_key_order(
    shipped_mapping: Mapping, mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    reordered = dict(reversed(list(mapping_document.items())))
    assert load_mapping(write_mapping(reordered)).version == shipped_mapping.version


def test_mapping_version_changes_when_a_field_changes(
    shipped_mapping: Mapping, mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    mapping_document["entities"]["contacts"]["fields"]["title"] = "jobTitle"
    assert load_mapping(write_mapping(mapping_document)).version != shipped_mapping.version


def test_mapping_version_changes_when_a_setting_changes(
    shipped_mapping: Mapping, mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    mapping_document["opportunity_status_map"]["No Decision"] = "Open"
    assert load_mapping(write_mapping(mapping_document)).version != shipped_mapping.version


def test_mapping_version_without_label_is_the_bare_hash(
    mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    del mapping_document["version_label"]
    version = load_mapping(write_mapping(mapping_document)).version
    assert "@" not in version
    assert len(version) == 12


def test_field_shorthand_is_a_text_source(shipped_mapping: Mapping) -> None:
    assert shipped_mapping.fields_of("contacts")["first_name"] == FieldSpec(source="firstName")


# --- mistakes -------------------------------------------------------------------------------


def test_unknown_top_level_key_is_named_with_the_allowed_keys(
    mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    mapping_document["contact_filters"] = {"company_types": "all"}

    message = load_error(write_mapping(mapping_document))

    assert "contact_filters: unknown key" in message
    assert "contact_filter," in message
    assert "entities" in message


def test_unknown_key_inside_settings_is_named_with_the_allowed_keys(
    mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    mapping_document["settings"]["sync_intervall"] = "5m"

    message = load_error(write_mapping(mapping_document))

    assert "settings.sync_intervall: unknown key" in message
    assert "sync_interval, max_quarantine_ratio, watermark_overlap_seconds" in message


def test_unknown_key_of_a_field_is_named_with_the_allowed_keys(
    mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    mapping_document["entities"]["contacts"]["fields"]["title"] = {"source": "title", "typ": "text"}

    message = load_error(write_mapping(mapping_document))

    assert "entities['contacts'].fields['title'].typ: unknown key" in message
    assert "source, custom_field, transform, type" in message


def test_opportunity_status_outside_open_won_lost_is_refused(
    mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    mapping_document["opportunity_status_map"]["Pending"] = "Lost deal"

    message = load_error(write_mapping(mapping_document))

    assert "opportunity_status_map['Pending']: 'Lost deal' is not allowed" in message
    assert all(outcome in message for outcome in ("Open", "Won", "Lost"))


def test_product_status_key_other_than_active_or_inactive_is_refused(
    mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    mapping_document["product_status_map"]["Retired"] = "Retired"

    message = load_error(write_mapping(mapping_document))

    assert "product_status_map['Retired']: 'Retired' is not allowed" in message
    assert "Active" in message and "Inactive" in message


def test_unknown_transform_is_refused_with_the_list_of_transforms(
    mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    mapping_document["entities"]["contacts"]["fields"]["email"] = {"transform": "best_email"}

    message = load_error(write_mapping(mapping_document))

    assert "entities['contacts'].fields['email'].transform: 'best_email' is not allowed" in message
    assert "default_email" in message and "product_terms" in message


def test_unknown_column_type_is_refused_with_the_list_of_types(
    mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    mapping_document["entities"]["contacts"]["fields"]["title"] = {"source": "t", "type": "varchar"}

    message = load_error(write_mapping(mapping_document))

    assert "fields['title'].type: 'varchar' is not allowed" in message
    assert "text, integer, number, money, boolean, timestamp" in message


def test_field_with_both_source_and_transform_is_refused(
    mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    fields = mapping_document["entities"]["contacts"]["fields"]
    fields["email"] = {"source": "email", "transform": "default_email"}

    message = load_error(write_mapping(mapping_document))

    assert "entities['contacts'].fields['email']: give exactly one of 'source'" in message


def test_field_without_any_origin_is_refused(
    mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    mapping_document["entities"]["contacts"]["fields"]["title"] = {"type": "text"}

    message = load_error(write_mapping(mapping_document))

    assert "fields['title']: give exactly one of" in message


@pytest.mark.parametrize("column", ["id", "raw", "record_hash", "deleted_at"])
def test_reserved_column_name_is_refused(
    column: str, mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    mapping_document["entities"]["contacts"]["fields"][column] = "id"

    message = load_error(write_mapping(mapping_document))

    assert f"entities['contacts'].fields: column {column!r} is reserved" in message


@pytest.mark.parametrize("column", ["firstName", "1st_name", "first-name", "_name", "x" * 64])
def test_column_name_that_is_not_snake_case_is_refused(
    column: str, mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    mapping_document["entities"]["contacts"]["fields"][column] = "firstName"

    message = load_error(write_mapping(mapping_document))

    assert f"column {column!r} must be snake_case" in message


def test_missing_required_column_of_an_entity_is_named(
    mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    del mapping_document["entities"]["contacts"]["fields"]["email"]

    message = load_error(write_mapping(mapping_document))

    assert "entities['contacts'].fields: missing column 'email'" in message


def test_unknown_entity_section_is_refused_with_the_registered_entities(
    mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    mapping_document["entities"]["tickets"] = {"fields": {"summary": "summary"}}

    message = load_error(write_mapping(mapping_document))

    assert "entities['tickets']: unknown entity" in message
    assert ", ".join(REGISTRY.names()) in message


def test_missing_entity_section_is_named(
    mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    del mapping_document["entities"]["agreements"]

    message = load_error(write_mapping(mapping_document))

    assert "entities: missing section 'agreements'" in message


def test_several_problems_are_all_listed_one_per_line(
    mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    del mapping_document["entities"]["agreements"]
    del mapping_document["entities"]["members"]

    message = load_error(write_mapping(mapping_document))

    assert "2 problems:" in message
    assert "\n  - entities: missing section 'members'" in message
    assert "\n  - entities: missing section 'agreements'" in message


def test_missing_entities_key_is_named(
    mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    del mapping_document["entities"]

    assert "entities: required key is missing" in load_error(write_mapping(mapping_document))


def test_repeated_company_type_in_priority_is_refused(
    mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    mapping_document["company_type_priority"] = ["Customer", "Vendor", "Customer"]

    message = load_error(write_mapping(mapping_document))

    assert "company_type_priority: lists Customer more than once" in message


def test_malformed_yaml_is_refused_with_its_line_number(write_mapping: WriteMapping) -> None:
    path = write_mapping("version_label: x\nsettings:\n  sync_interval: [5m\n  x: 1\n")

    message = load_error(path)

    assert "malformed YAML at line 4" in message


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", ""])
def test_top_level_that_is_not_a_mapping_is_refused(text: str, write_mapping: WriteMapping) -> None:
    assert "the top level must be a mapping" in load_error(write_mapping(text))


def test_top_level_error_names_the_type_found(write_mapping: WriteMapping) -> None:
    message = load_error(write_mapping("- a\n- b\n"))

    assert message.endswith("not list.")


def test_missing_file_is_refused_with_how_to_fix_it(tmp_path: Path) -> None:
    message = load_error(tmp_path / "nowhere.yaml")

    assert "cannot read the mapping file" in message
    assert "CONNECTWISE_MAPPING_FILE" in message


def test_environment_variable_selects_the_mapping_file(
    monkeypatch: pytest.MonkeyPatch, mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    mapping_document["version_label"] = "from-env"
    monkeypatch.setenv("CONNECTWISE_MAPPING_FILE", str(write_mapping(mapping_document)))

    assert load_mapping().version.startswith("from-env@")


# --- settings -------------------------------------------------------------------------------


def test_contact_filter_reads_a_comma_separated_string(
    mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    mapping_document["contact_filter"]["company_types"] = " Customer,Prospect , "

    contact_filter = load_mapping(write_mapping(mapping_document)).config.contact_filter

    assert contact_filter.company_types == ["Customer", "Prospect"]
    assert not contact_filter.is_all


def test_contact_filter_reads_a_list(
    mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    mapping_document["contact_filter"]["company_types"] = ["Customer", "Prospect"]

    contact_filter = load_mapping(write_mapping(mapping_document)).config.contact_filter

    assert contact_filter.company_types == ["Customer", "Prospect"]


@pytest.mark.parametrize("value", ["all", "ALL", " All "])
def test_contact_filter_all_pulls_every_contact(
    value: str, mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    mapping_document["contact_filter"]["company_types"] = value

    assert load_mapping(write_mapping(mapping_document)).config.contact_filter.is_all


def test_contact_filter_defaults_to_all(
    mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    del mapping_document["contact_filter"]

    assert load_mapping(write_mapping(mapping_document)).config.contact_filter.is_all


def test_shipped_contact_filter_is_the_seed_recommendation(shipped_mapping: Mapping) -> None:
    company_types = shipped_mapping.config.contact_filter.company_types
    assert company_types == ["Customer", "Prospect", "Suspect"]


@pytest.mark.parametrize(
    ("interval", "schedule"),
    [
        ("5m", "*/5 * * * *"),
        ("15m", "*/15 * * * *"),
        ("30m", "*/30 * * * *"),
        ("1h", "0 * * * *"),
        ("4h", "0 */4 * * *"),
        ("1d", "0 3 * * *"),
    ],
)
def test_sync_interval_maps_to_a_cron_schedule(
    interval: str, schedule: str, mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    mapping_document["settings"]["sync_interval"] = interval

    settings = load_mapping(write_mapping(mapping_document)).config.settings

    assert settings.incremental_schedule == schedule


def test_every_sync_interval_has_a_schedule() -> None:
    from typing import get_args

    from connectwise.mapping.models import SyncInterval

    assert set(get_args(SyncInterval)) == set(SYNC_INTERVAL_SCHEDULES)


def test_sync_interval_outside_the_dropdown_is_refused_with_the_choices(
    mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    mapping_document["settings"]["sync_interval"] = "2h"

    message = load_error(write_mapping(mapping_document))

    assert "settings.sync_interval: '2h' is not allowed" in message
    assert "5m, 15m, 30m, 1h, 4h" in message


@pytest.mark.parametrize("megabytes", [0, -1, 2048, "lots"])
def test_load_chunk_megabytes_outside_its_range_is_refused(
    megabytes: Any, mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    mapping_document["settings"]["load_chunk_megabytes"] = megabytes

    assert "settings.load_chunk_megabytes" in load_error(write_mapping(mapping_document))


@pytest.mark.parametrize("ratio", [-0.1, 1.5])
def test_max_quarantine_ratio_outside_zero_to_one_is_refused(
    ratio: float, mapping_document: dict[str, Any], write_mapping: WriteMapping
) -> None:
    mapping_document["settings"]["max_quarantine_ratio"] = ratio

    assert "settings.max_quarantine_ratio" in load_error(write_mapping(mapping_document))
