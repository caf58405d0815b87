"""Mapping mistakes fail before any API call (or, for names, before any record is read)."""

from __future__ import annotations

from pathlib import Path

import pytest
from connectwise import jobs
from connectwise.errors import ConnectWiseMappingError
from connectwise.staging.database import create_staging_engine

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = (ROOT / "include/mappings/connectwise.yaml").read_text()


def variant(tmp_path: Path, old: str, new: str, *more: tuple[str, str]) -> str:
    text = SHIPPED
    for before, after in ((old, new), *more):
        assert before in text
        text = text.replace(before, after)
    path = tmp_path / "mapping.yaml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("version_label:", "versoin_label:", "versoin_label: unknown key (allowed: version_label,"),
        (
            "  Won: Won\n",
            "  Won: Victory\n",
            "opportunity_status_map['Won']: 'Victory' is not allowed "
            "(use one of: Open, Won or Lost)",
        ),
        (
            "  Inactive: Inactive\n",
            "  Retired: Inactive\n",
            "product_status_map['Retired']: 'Retired' is not allowed "
            "(use one of: Active or Inactive)",
        ),
        (
            "sync_interval: 15m",
            "sync_interval: 10m",
            "settings.sync_interval: '10m' is not allowed",
        ),
        ("      email: {transform: default_email}\n", "", "missing column 'email'"),
        ("{transform: default_email}", "{transform: main_email}", "'main_email' is not allowed"),
        ("entities:\n", "entities:\n  tickets: {fields: {name: name}}\n", "unknown entity"),
        ("contact_filter:\n", "contact_filter: [\n", "malformed YAML at line"),
    ],
    ids=[
        "unknown-key",
        "unknown-status-outcome",
        "unknown-product-state",
        "bad-interval",
        "missing-required-column",
        "unknown-transform",
        "unknown-entity",
        "malformed-yaml",
    ],
)
def test_mapping_mistake_fails_before_any_api_call(
    simulator, cw_connection, sqlite_url, tmp_path, old, new, expected
):
    cw_connection(simulator)
    path = variant(tmp_path, old, new)
    simulator.reset_stats()
    with pytest.raises(ConnectWiseMappingError) as failure:
        jobs.open_job(mapping_path=path, engine=create_staging_engine(sqlite_url))
    assert str(failure.value).startswith(path)
    assert expected in str(failure.value)
    assert simulator.stats()["requests_total"] == 0


def test_company_type_unknown_to_connectwise_fails_before_any_record_is_read(
    simulator, cw_connection, sqlite_url, tmp_path
):
    cw_connection(simulator)
    path = variant(
        tmp_path, "company_types: Customer, Prospect, Suspect", "company_types: Customer, Custmer"
    )
    job = jobs.open_job(mapping_path=path, engine=create_staging_engine(sqlite_url))
    simulator.reset_stats()
    with pytest.raises(ConnectWiseMappingError) as failure:
        jobs.run_preflight(job)
    message = str(failure.value)
    assert (
        "contact_filter.company_types: 'Custmer' is not one of the company types in ConnectWise"
        in message
    )
    assert "(known: Competition, Customer," in message
    read = simulator.stats()["by_endpoint"]
    # Only the checklist's one-record module probe touched the catalog; no contact was read.
    assert not any("company/contacts" in key for key in read), read
    assert read.get("GET procurement/catalog", 0) <= 1, read


def test_unknown_status_and_category_names_are_all_listed(
    simulator, cw_connection, sqlite_url, tmp_path
):
    cw_connection(simulator)
    path = variant(
        tmp_path,
        "  Open: Open\n",
        "  Opened: Open\n",
        ("category_map: {}", "category_map: {Gadgets: Hardware}"),
    )
    job = jobs.open_job(mapping_path=path, engine=create_staging_engine(sqlite_url))
    with pytest.raises(ConnectWiseMappingError) as failure:
        jobs.run_preflight(job)
    message = str(failure.value)
    assert (
        "opportunity_status_map['Opened']: 'Opened' is not one of the opportunity statuses"
        in message
    )
    assert "category_map['Gadgets']: 'Gadgets' is not one of the categories" in message
