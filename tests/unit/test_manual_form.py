"""The manual sync's trigger form, as Airflow serializes it for the UI and checks a trigger."""

from __future__ import annotations

from typing import Any

import pytest
from connectwise.entities import REGISTRY
from connectwise.manual import FIND_DELETED_DEFAULT, MODE_LABELS, plan_manual_sync
from connectwise.manual_form import manual_sync_params

FIELDS = ("data_types", "mode", "changed_since", "find_deleted")


@pytest.fixture(scope="module")
def served() -> Any:
    """The params after a serialization round trip: what the API hands the trigger form."""
    from airflow.sdk import DAG
    from airflow.serialization.serialized_objects import DagSerialization

    dag = DAG("form_probe", schedule=None, params=manual_sync_params())
    return DagSerialization.from_dict(DagSerialization.to_dict(dag)).params


def field(served: Any, name: str) -> dict[str, Any]:
    return served.get_param(name).dump()


def test_form_shows_the_fields_in_order_each_with_a_title(served):
    assert list(served.keys()) == list(FIELDS)
    titles = [field(served, name)["schema"]["title"] for name in FIELDS]
    assert titles == ["Data types", "Mode", "Changed since (optional)", "Look for deleted records"]


@pytest.mark.parametrize("name", FIELDS)
def test_every_field_has_markdown_help_that_the_form_renders(served, name):
    spec = field(served, name)
    # The form renders schema.description_md only when the plain description is absent.
    assert spec["description"] is None
    assert len(spec["schema"]["description_md"]) > 80


def test_looking_for_deleted_records_is_off_by_default_in_the_form_and_the_plan(served):
    assert field(served, "find_deleted")["value"] is False
    assert FIND_DELETED_DEFAULT is False
    plan = plan_manual_sync({"data_types": ["contacts"], "mode": "incremental"})
    assert plan.find_deleted is False
    assert plan_manual_sync({"data_types": ["contacts"], "find_deleted": True}).find_deleted


def test_mode_help_names_every_mode_with_what_it_costs(served):
    spec = field(served, "mode")
    help_text = spec["schema"]["description_md"]
    for label in MODE_LABELS.values():
        assert f"**{label}**" in help_text
    assert "request per 1,000" in help_text and "without calling ConnectWise" in help_text
    assert spec["value"] == "incremental"


def test_data_types_help_says_why_trigger_is_disabled_when_none_is_picked(served):
    spec = field(served, "data_types")
    assert "Pick **at least one**" in spec["schema"]["description_md"]
    assert "**Trigger** stays disabled" in spec["schema"]["description_md"]
    assert spec["value"] == REGISTRY.names()


def test_a_trigger_with_no_data_type_is_refused_with_the_field_named(served):
    from airflow.sdk.definitions.param import ParamValidationError

    with pytest.raises(ParamValidationError, match="data_types"):
        served.deep_merge({"data_types": []}).validate()
    served.deep_merge({"data_types": ["contacts"]}).validate()


def test_changed_since_help_says_when_to_leave_it_empty(served):
    spec = field(served, "changed_since")
    help_text = spec["schema"]["description_md"]
    assert help_text.startswith("Leave empty")
    assert "*Changes since the last sync*" in help_text and "future" in help_text
    assert spec["value"] is None
