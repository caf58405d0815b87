"""Re-processing quarantine: reasons name the value, issues group it, a re-map fixes it.

Against the simulator and real staging databases (SQLite and PostgreSQL): a tenant with
opportunity statuses the mapping does not map, the Issues page's groups, the mapping fixed
and the quarantine re-processed through the manual sync's re-map plan.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from connectwise import jobs
from connectwise.client.hook import ConnectWiseHook
from connectwise.entities import REGISTRY
from connectwise.issues import open_issues, reprocess_conf
from connectwise.manual import plan_manual_sync
from connectwise.mapping.apply import canonical_json
from connectwise.reconcile import mark_deleted
from connectwise.staging import history
from connectwise.staging.database import create_staging_engine
from connectwise.staging.quarantine import quarantine
from connectwise.staging.records import Rejection
from connectwise.values import parse_datetime

from tests.support import ROOT, quarantined, staged_rows

OPPORTUNITIES = REGISTRY["opportunities"]
MANUFACTURERS = REGISTRY["manufacturers"]
NEEDED = [entity.name for entity in REGISTRY.with_dependencies(["opportunities"])]
PENDING = "status 'Pending Review' is not mapped by opportunity_status_map"
ON_HOLD = "status 'On Hold' is not mapped by opportunity_status_map"
FIX_IT = ": add it to the mapping file"


def write_mapping(folder: Path, name: str, statuses: dict[str, str]) -> str:
    """The shipped mapping with extra status entries and no quarantine-ratio stop.

    An incremental run here reads a handful of changed records, most of them unmapped on
    purpose; the shipped 5% ratio would fail those runs after loading the good records.
    """
    document = yaml.safe_load((ROOT / "include/mappings/connectwise.yaml").read_text())
    document["settings"]["max_quarantine_ratio"] = 1.0
    document["opportunity_status_map"].update(statuses)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return str(path)


def sync_needed(engine: sa.Engine, mapping: str, mode: str, run_id: str) -> None:
    job = jobs.open_job(engine=engine, mapping_path=mapping)
    for name in NEEDED:
        jobs.run_sync(job, name, mode=mode, run_id=run_id)


def give_status(hook: ConnectWiseHook, status_id: int, opportunity_ids: list[int]) -> None:
    for opportunity_id in opportunity_ids:
        hook.patch(
            f"sales/opportunities/{opportunity_id}",
            [{"op": "replace", "path": "status", "value": {"id": status_id}}],
        )


def reprocess(engine: sa.Engine, mapping: str, entity: str, run_id: str) -> dict[str, Any]:
    """Run what the Issues page's Re-process triggers: the manual sync's plan for its conf."""
    plan = plan_manual_sync(reprocess_conf(entity))
    job = jobs.open_job(engine=engine, mapping_path=mapping)
    [name] = plan.planned()
    return jobs.run_sync(job, name, mode=plan.mode_of(name) or "", run_id=run_id)


def sync_run(engine: sa.Engine, run_id: str, entity: str) -> dict[str, Any]:
    with engine.connect() as connection:
        row = connection.execute(
            sa.text("SELECT * FROM meta_sync_runs WHERE run_id = :run AND entity = :entity"),
            {"run": run_id, "entity": entity},
        ).one()
    return dict(row._mapping)


def test_reprocess_loads_what_the_mapping_fix_covers_and_keeps_the_rest(
    simulator, cw_connection, staging_url, tmp_path
):
    cw_connection(simulator)
    engine = create_staging_engine(staging_url)
    before_fix = write_mapping(tmp_path, "before", {})
    hook = jobs.open_job(engine=engine, mapping_path=before_fix).hook
    pending = hook.post("sales/opportunities/statuses", {"name": "Pending Review"})["id"]
    on_hold = hook.post("sales/opportunities/statuses", {"name": "On Hold"})["id"]
    ids = sorted(int(record["id"]) for record in simulator.truth("sales/opportunities"))
    never_staged, staged_older, held_back = ids[:2], ids[10:12], ids[20]
    give_status(hook, pending, never_staged)
    sync_needed(engine, before_fix, "full", "initial")
    give_status(hook, pending, staged_older)
    give_status(hook, on_hold, [held_back])
    sync_needed(engine, before_fix, "incremental", "changes")

    expected = {record_id: PENDING + FIX_IT for record_id in never_staged + staged_older}
    assert quarantined(engine, OPPORTUNITIES) == {**expected, held_back: ON_HOLD + FIX_IT}
    groups = [group for group in open_issues(engine) if group.entity == "opportunities"]
    assert [(group.summary, group.count) for group in groups] == [(PENDING, 4), (ON_HOLD, 1)]
    names = {int(item["id"]): item["name"] for item in simulator.truth("sales/opportunities")}
    examples = groups[0].examples
    assert len(examples) == 3
    assert {example.value for example in examples} == {"Pending Review"}
    assert all(example.name == names[example.record_id] for example in examples)
    assert all(example.reason == PENDING + FIX_IT for example in examples)
    assert "opportunity_status_map" in groups[0].fix and groups[0].reprocess_helps
    watermark = history.get_watermark(engine, "opportunities")
    staged_before = staged_rows(engine, OPPORTUNITIES)

    simulator.reset_stats()
    after_fix = write_mapping(tmp_path, "after", {"Pending Review": "Open"})
    figures = reprocess(engine, after_fix, "opportunities", "reprocess")

    assert simulator.stats()["requests_total"] == 0
    staged = staged_rows(engine, OPPORTUNITIES)
    truth = {int(item["id"]): item for item in simulator.truth("sales/opportunities")}
    for record_id in never_staged + staged_older:
        assert staged[record_id]["opportunity_status"] == "Open"
        assert staged[record_id]["raw"] == truth[record_id]
    assert staged[held_back]["raw"] == staged_before[held_back]["raw"]  # its older version
    assert quarantined(engine, OPPORTUNITIES) == {held_back: ON_HOLD + FIX_IT}
    groups = [group for group in open_issues(engine) if group.entity == "opportunities"]
    assert [(group.summary, group.count) for group in groups] == [(ON_HOLD, 1)]
    # Every staged record once, the two newer payloads instead of their staged copies.
    assert figures["fetched"] == len(staged_before) - 3 + 5
    assert (figures["inserted"], figures["quarantined"], figures["unchanged"]) == (2, 1, 0)
    assert figures["updated"] == len(staged_before) - 3 + 2  # every row: a new mapping version
    run = sync_run(engine, "reprocess", "opportunities")
    assert (run["mode"], run["status"], run["fetched"], run["watermark_to"]) == (
        "remap",
        "success",
        figures["fetched"],
        None,
    )
    assert history.get_watermark(engine, "opportunities") == watermark
    with engine.connect() as connection:
        held = connection.execute(
            sa.text(
                "SELECT run_id, check_name, problem, offending_value FROM meta_quarantine "
                "WHERE entity = 'opportunities' AND resolved_at IS NULL"
            )
        ).one()
    assert tuple(held) == ("reprocess", "mapped_value", ON_HOLD, "On Hold")


def later(record: dict[str, Any], days: int) -> dict[str, Any]:
    """A copy of a raw record as it was (days < 0) or will be (days > 0) at another time."""
    moved = json.loads(json.dumps(record))
    stamp = parse_datetime(moved["_info"]["lastUpdated"]) + timedelta(days=days)
    moved["_info"]["lastUpdated"] = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moved


def hold(engine: sa.Engine, record_id: int, payload: Any, check: str, reason: str) -> None:
    with engine.begin() as connection:
        rejection = Rejection(record_id, check, reason, canonical_json(payload))
        quarantine(connection, MANUFACTURERS.name, [rejection], "earlier")


def test_reprocess_keeps_every_guarantee_for_each_kind_of_quarantined_payload(
    simulator, cw_connection, staging_url, tmp_path
):
    cw_connection(simulator)
    engine = create_staging_engine(staging_url)
    mapping = write_mapping(tmp_path, "mapping", {})  # 1 of 20 manufacturers stays held
    job = jobs.open_job(engine=engine, mapping_path=mapping)
    jobs.run_sync(job, MANUFACTURERS.name, mode="full", run_id="initial")
    staged = staged_rows(engine, MANUFACTURERS)
    stale, newer, broken, deleted, returned = sorted(staged)[:5]
    delivery = 10**9  # a callback delivery for a record never staged: no record payload

    # An older version that would fail again: staging's newer one settles it all the same.
    hold(engine, stale, {**later(staged[stale]["raw"], -1), "name": None}, "not_null", "x")
    hold(engine, newer, {**later(staged[newer]["raw"], 1), "name": "Newer"}, "format", "x")
    hold(engine, broken, {**later(staged[broken]["raw"], 1), "name": None}, "format", "old")
    hold(engine, deleted, later(staged[deleted]["raw"], 1), "format", "x")
    mark_deleted(engine, MANUFACTURERS, [deleted])  # gone after it was quarantined
    mark_deleted(engine, MANUFACTURERS, [returned])  # gone, then back and quarantined
    hold(engine, returned, {**later(staged[returned]["raw"], 1), "name": "Back"}, "format", "x")
    given_up = "gave up after 5 attempts: 503"
    payload = {"inbox_id": 1, "action": "updated", "record_id": delivery}
    hold(engine, delivery, payload, "callback_delivery", given_up)

    figures = reprocess(engine, mapping, MANUFACTURERS.name, "reprocess")

    after = staged_rows(engine, MANUFACTURERS)
    assert after[stale]["raw"] == staged[stale]["raw"]  # older never overwrites newer
    assert after[newer]["name"] == "Newer"
    assert after[broken]["raw"] == staged[broken]["raw"]
    assert deleted not in after
    assert after[returned]["name"] == "Back"
    assert quarantined(engine, MANUFACTURERS) == {broken: "name is missing", delivery: given_up}
    with engine.connect() as connection:
        checks = dict(
            connection.execute(
                sa.text(
                    "SELECT record_id, check_name FROM meta_quarantine "
                    "WHERE entity = 'manufacturers' AND resolved_at IS NULL"
                )
            )
            .tuples()
            .all()
        )
    assert checks == {broken: "not_null", delivery: "callback_delivery"}
    # The live staged rows, two newer payloads in place of their staged copies, the one back.
    live = len(staged) - 2
    assert figures["fetched"] == live + 1
    assert (figures["inserted"], figures["updated"], figures["quarantined"]) == (0, 2, 1)
    assert figures["unchanged"] == live - 2
