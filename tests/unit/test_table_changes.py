"""Which staging-table changes become asset events, and what their ``extra`` holds."""

from __future__ import annotations

import re

import pytest
from airflow.sdk import BaseOperator
from airflow.sdk.execution_time.context import OutletEventAccessors
from connectwise.asset_events import (
    TableChange,
    change_from_reconcile,
    change_from_sync,
    emit_changes,
)
from connectwise.assets import staging_asset, staging_changes
from connectwise.entities import REGISTRY

CONTACTS = REGISTRY["contacts"]


def task_context(*outlets) -> dict:
    """What Airflow hands a running task: the task itself and its outlet event accessors."""
    return {
        "task": BaseOperator(task_id="sync_contacts", outlets=list(outlets)),
        "outlet_events": OutletEventAccessors(),
    }


def contacts_change(**counts: int) -> TableChange:
    return TableChange(
        entity="contacts", table="stg_contacts", mode="incremental", run_id="r1", **counts
    )


def test_sync_figures_become_the_events_extra():
    result = {
        "entity": "contacts",
        "mode": "incremental",
        "fetched": 9,
        "inserted": 2,
        "updated": 3,
        "unchanged": 4,
        "deleted": 1,
        "quarantined": 5,
        "watermark": "2026-01-02T03:04:05+00:00",
    }
    assert change_from_sync(result, "r1").as_extra() == {
        "entity": "contacts",
        "table": "stg_contacts",
        "mode": "incremental",
        "run_id": "r1",
        "inserted": 2,
        "updated": 3,
        "soft_deleted": 1,
        "quarantined": 5,
        "watermark": "2026-01-02T03:04:05+00:00",
    }


def test_reconciliation_counts_its_soft_deletes_and_re_reads():
    result = {"entity": "contacts", "remote": 10, "staged": 12, "soft_deleted": 2, "returned": 1}
    change = change_from_reconcile({**result, "inserted": 0, "updated": 1}, "r1")
    assert (change.mode, change.soft_deleted, change.updated) == ("reconcile", 2, 1)


@pytest.mark.parametrize(
    ("counts", "changed"),
    [
        ({}, False),
        ({"quarantined": 4}, False),  # rejected records change no row of the table
        ({"inserted": 1}, True),
        ({"updated": 1}, True),
        ({"soft_deleted": 1}, True),
    ],
)
def test_only_inserted_updated_or_soft_deleted_rows_count_as_a_change(counts, changed):
    assert contacts_change(**counts).has_changed_rows is changed


def test_changes_of_one_table_add_up_to_one_event_on_its_asset():
    alias = staging_changes(CONTACTS)
    context = task_context(alias)
    emitted = emit_changes(
        context,  # type: ignore[arg-type]
        [contacts_change(inserted=1, quarantined=2), contacts_change(soft_deleted=3)],
    )
    assert emitted == ["stg_contacts"]
    (event,) = context["outlet_events"][alias].asset_alias_events
    assert event.dest_asset_key.uri == staging_asset(CONTACTS).uri
    assert (event.extra["inserted"], event.extra["soft_deleted"]) == (1, 3)
    assert event.extra["quarantined"] == 2


def test_unchanged_table_gets_no_event():
    alias = staging_changes(CONTACTS)
    context = task_context(alias)
    assert emit_changes(context, [contacts_change(quarantined=1)]) == []  # type: ignore[arg-type]
    assert context["outlet_events"][alias].asset_alias_events == []


def test_change_of_a_table_the_task_does_not_declare_is_an_error():
    context = task_context(staging_changes(REGISTRY["companies"]))
    undeclared = re.escape("does not declare the outlet 'connectwise.stg_contacts.changes'")
    with pytest.raises(ValueError, match=undeclared):
        emit_changes(context, [contacts_change(updated=1)])  # type: ignore[arg-type]
