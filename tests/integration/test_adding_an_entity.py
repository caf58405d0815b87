"""docs/adding-an-entity.md works: its registry entry and mapping section sync a new entity.

The two blocks are read from the page itself, so the walk-through and this test cannot drift:
a registry with the entry, a mapping with the section, a job that generates the table and the
freshness view (no migration), then a sync compared with the simulator record by record.
"""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
import yaml
from connectwise import endpoints, jobs
from connectwise.entities import REGISTRY, Entity, Parent, Reference, Registry
from connectwise.staging.database import create_staging_engine

from tests.support import collection_of, quarantined, staged_rows

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "adding-an-entity.md"


def page_block(language: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, f"{PAGE.name} should hold one {language} block"
    return blocks[0]


def page_entity() -> Entity:
    names = {"Entity": Entity, "Reference": Reference, "Parent": Parent, "endpoints": endpoints}
    return eval(page_block("python"), names)  # noqa: S307 - our own documentation


def page_mapping(folder: Path) -> str:
    document = yaml.safe_load((ROOT / "include/mappings/connectwise.yaml").read_text())
    document["entities"].update(yaml.safe_load(page_block("yaml")))
    path = folder / "mapping-with-activities.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return str(path)


def test_the_walk_through_syncs_a_new_entity(
    shared_simulator, cw_connection, staging_url, tmp_path
):
    cw_connection(shared_simulator)
    entity = page_entity()
    registry = Registry.of(*REGISTRY.entities.values(), entity)
    engine = create_staging_engine(staging_url)
    job = jobs.open_job(mapping_path=page_mapping(tmp_path), engine=engine, registry=registry)

    for needed in registry.with_dependencies([entity.name]):
        jobs.run_sync(job, needed.name, mode="full", run_id="walk-through")

    truth = {int(r["id"]): r for r in shared_simulator.truth(collection_of(entity))}
    staged = staged_rows(engine, entity)
    held = quarantined(engine, entity)
    assert truth and set(staged) | set(held) == set(truth)
    assert all(held.values()), "every quarantined activity has its reason"
    assert all(row["raw"] == truth[record_id] for record_id, row in staged.items())
    with engine.connect() as connection:
        company_ids = connection.execute(sa.text("SELECT id, company_id FROM stg_activities"))
        assert all(
            company == truth[record_id]["company"]["id"] for record_id, company in company_ids
        )
        listed = connection.execute(
            sa.text("SELECT row_count FROM v_sync_freshness WHERE entity = 'activities'")
        ).scalar()
    assert listed == len(staged)

    again = jobs.run_sync(job, entity.name, mode="incremental", run_id="walk-through-2")
    assert again["mode"] == "incremental"
    assert again["inserted"] == again["updated"] == 0
