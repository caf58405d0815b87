"""The Issues page's Re-process conf, run by the real manual-sync DAG (``dag.test``)."""

from __future__ import annotations

import sqlalchemy as sa
import yaml
from connectwise import jobs
from connectwise.entities import REGISTRY
from connectwise.issues import REPROCESS_DAG_ID, open_issues, reprocess_conf
from connectwise.staging.database import create_staging_engine

from tests.support import ROOT, quarantined, staged_rows

CATALOG = REGISTRY["catalog_items"]
UNMAPPED = "product state 'Inactive' is not mapped by product_status_map"


def test_reprocess_conf_remaps_only_its_entity_and_loads_what_the_fix_covers(
    airflow_db, dagbag, simulator, cw_connection, staging_connection, tmp_path, monkeypatch
):
    url = f"sqlite:///{tmp_path / 'staging.db'}"
    cw_connection(simulator)
    staging_connection(url)
    document = yaml.safe_load((ROOT / "include/mappings/connectwise.yaml").read_text())
    document["settings"]["max_quarantine_ratio"] = 1.0  # 12 of 200 items are inactive
    document["product_status_map"] = {"Active": "Active"}
    before = tmp_path / "before.yaml"
    before.write_text(yaml.safe_dump(document))
    engine = create_staging_engine(url)
    job = jobs.open_job(engine=engine, mapping_path=str(before))
    for entity in REGISTRY.with_dependencies([CATALOG.name]):
        jobs.run_sync(job, entity.name, mode="full", run_id="initial")
    inactive = {int(i["id"]) for i in simulator.truth("procurement/catalog") if i["inactiveFlag"]}
    assert set(quarantined(engine, CATALOG)) == inactive
    [group] = open_issues(engine)
    assert (group.summary, group.count, group.reprocess_conf) == (
        UNMAPPED,
        len(inactive),
        reprocess_conf(CATALOG.name),
    )

    document["product_status_map"]["Inactive"] = "Retired"
    after = tmp_path / "after.yaml"
    after.write_text(yaml.safe_dump(document))
    monkeypatch.setenv("CONNECTWISE_MAPPING_FILE", str(after))
    simulator.reset_stats()
    run = dagbag.dags[REPROCESS_DAG_ID].test(run_conf=group.reprocess_conf)

    assert run.state == "success"
    assert simulator.stats()["requests_total"] == 0
    assert quarantined(engine, CATALOG) == {} and open_issues(engine) == []
    staged = staged_rows(engine, CATALOG)
    assert {staged[record_id]["product_status"] for record_id in inactive} == {"Retired"}
    with engine.connect() as connection:
        synced = connection.execute(
            sa.text("SELECT entity, mode FROM meta_sync_runs WHERE run_id LIKE :run"),
            {"run": f"{run.run_id}%"},
        ).all()
    assert [tuple(row) for row in synced] == [(CATALOG.name, "remap")]
