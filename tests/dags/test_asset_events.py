"""Asset events of sync runs through Airflow (dag.test): only changed tables get one, with counts.

Events and the scheduler's queue are read from Airflow's metadata DB after each run.
"""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from connectwise import jobs
from connectwise.assets import staging_asset, staging_changes
from connectwise.dag_graph import sync_units
from connectwise.entities import REGISTRY, Entity
from connectwise.staging.database import create_staging_engine
from connectwise.staging.history import as_datetime

from tests.dags.asset_support import (
    due_from_assets,
    events_of,
    freshly_parsed,
    register_consumer,
)

CATALOG = REGISTRY["catalog_items"]
MANUAL = "connectwise_manual_sync"


@pytest.fixture
def synced(simulator, cw_connection, staging_connection, tmp_path) -> sa.Engine:
    """A staging database fully synced from a fresh simulator (outside Airflow: no events)."""
    url = f"sqlite:///{tmp_path / 'staging.db'}"
    cw_connection(simulator)
    staging_connection(url)
    engine = create_staging_engine(url)
    job = jobs.open_job(engine=engine)
    for entity in REGISTRY.in_dependency_order():
        if not entity.optional:
            jobs.run_sync(job, entity.name, mode="full", run_id="initial")
    return engine


def catalog_ids(engine: sa.Engine, *, deleted: bool) -> set[int]:
    condition = "IS NOT NULL" if deleted else "IS NULL"
    with engine.connect() as connection:
        return set(
            connection.execute(
                sa.text(f"SELECT id FROM stg_catalog_items WHERE deleted_at {condition}")
            ).scalars()
        )


def structure_edges(dag_id: str, monkeypatch: pytest.MonkeyPatch) -> set[tuple[str, str]]:
    """The edges of the DAG's graph with external dependencies, as the UI fetches them."""
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "True")
    client = TestClient(create_app("core"))
    response = client.get(
        "/ui/structure/structure_data",
        params={"dag_id": dag_id, "external_dependencies": True},
    )
    assert response.status_code == 200, response.text
    return {(edge["source_id"], edge["target_id"]) for edge in response.json()["edges"]}


def test_tasks_that_change_tables_declare_their_aliases_not_the_plain_assets(dagbag):
    for dag_id in ("connectwise_initial_sync", "connectwise_incremental_sync", MANUAL):
        dag = dagbag.dags[dag_id]
        for unit in sync_units():
            outlets = [staging_changes(entity) for entity in unit.entities]
            assert dag.get_task(unit.task_id).outlets == outlets
    every_table = [staging_changes(entity) for entity in REGISTRY]
    assert dagbag.dags["connectwise_callbacks"].get_task("apply_callbacks").outlets == every_table
    manual = dagbag.dags[MANUAL]
    assert manual.get_task("reconcile_planned").outlets == every_table
    push = dagbag.dags["connectwise_push"].get_task("push_contacts")
    assert staging_changes(REGISTRY["contacts"]) in push.outlets
    # The optional entity's task explains, in its docs, when and why it is skipped.
    assert (
        "`entities.agreement_additions` section"
        in manual.get_task("sync_agreement_additions").doc_md
    )
    assert "optional" not in manual.get_task("sync_contacts").doc_md  # its docstring


def test_incremental_runs_announce_only_changed_tables_and_wake_only_their_consumers(
    airflow_db, dagbag, simulator, synced, monkeypatch
):
    register_consumer("uses_catalog_items", CATALOG)
    register_consumer("uses_companies", REGISTRY["companies"])
    dag = dagbag.dags["connectwise_incremental_sync"]

    quiet = dag.test()
    assert quiet.state == "success"
    assert events_of(quiet) == []  # nothing changed: no event, not even from the reconciliation
    assert not {"uses_catalog_items", "uses_companies"} & due_from_assets()

    plan = simulator.mutate("procurement/catalog", create=3, update=2, seed=5)
    busy = dag.test()
    assert busy.state == "success"
    events = events_of(busy)
    assert [table for table, _ in events] == ["stg_catalog_items"]
    extra = events[0][1]
    assert set(plan["created"]) <= catalog_ids(synced, deleted=False)
    with synced.connect() as connection:
        watermark = connection.execute(
            sa.text("SELECT watermark FROM meta_watermarks WHERE entity = 'catalog_items'")
        ).scalar()
    assert extra == {
        "entity": "catalog_items",
        "table": "stg_catalog_items",
        "mode": "incremental",
        "run_id": busy.run_id,
        "inserted": 3,
        "updated": 2,
        "soft_deleted": 0,
        "quarantined": 0,
        "watermark": extra["watermark"],
    }
    assert datetime.fromisoformat(extra["watermark"]) == as_datetime(watermark)

    due = due_from_assets()  # the consumer declares the plain Asset, not the alias
    assert "uses_catalog_items" in due
    assert "uses_companies" not in due
    # The UI's graph binds the asset to the task that emitted its event through the alias.
    edges = structure_edges("connectwise_incremental_sync", monkeypatch)
    assert ("sync_catalog_items", f"asset:{asset_id(CATALOG)}") in edges


def asset_id(entity: Entity) -> int:
    from airflow.models.asset import AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        return session.scalars(
            sa.select(AssetModel.id).where(AssetModel.uri == staging_asset(entity).uri)
        ).one()


def test_manual_run_announces_soft_deletes_from_its_reconciliation(
    airflow_db, dagbag, simulator, synced
):
    plan = simulator.mutate("procurement/catalog", delete=2, seed=6)
    # A DAG of its own: dag.test() leaves a run's params on the tasks' Param objects (even a
    # deepcopy's), which later runs of the session's DAG would inherit.
    run = freshly_parsed(MANUAL).test(
        run_conf={"data_types": ["catalog_items"], "mode": "incremental", "find_deleted": True}
    )
    assert run.state == "success"
    assert set(plan["deleted"]) <= catalog_ids(synced, deleted=True)
    events = events_of(run)
    assert [table for table, _ in events] == ["stg_catalog_items"]  # only the deletes changed
    extra = events[0][1]
    assert extra["mode"] == "reconcile"
    assert (extra["soft_deleted"], extra["inserted"], extra["updated"]) == (2, 0, 0)
    assert extra["watermark"]  # unchanged by a reconciliation, still reported
