"""Callback DAGs through Airflow (dag.test): setup installs and uninstalls, the drain applies."""

from __future__ import annotations

import sqlalchemy as sa
from connectwise import jobs
from connectwise.callbacks import install
from connectwise.entities import REGISTRY
from connectwise.staging.database import create_staging_engine

from tests.callback_support import inbox_rows, running_receiver, wait_for
from tests.dags.asset_support import events_of
from tests.support import assert_matches_truth

SEED_FILTER = {"customer", "prospect", "suspect"}


def test_callback_setup_dag_installs_then_uninstalls(
    airflow_db, dagbag, simulator, cw_connection, staging_connection, tmp_path
):
    cw_connection(simulator, callback_url="https://hooks.example.com/connectwise")
    staging_connection(f"sqlite:///{tmp_path / 'staging.db'}")
    dag = dagbag.dags["connectwise_callback_setup"]

    assert dag.test(run_conf={"action": "install"}).state == "success"
    types = sorted(entry["type"] for entry in simulator.truth("system/callbacks"))
    assert types == ["agreement", "company", "contact", "member", "opportunity", "productcatalog"]

    assert dag.test(run_conf={"action": "uninstall"}).state == "success"
    assert simulator.truth("system/callbacks") == []


def test_callbacks_dag_applies_the_inbox(
    airflow_db, dagbag, simulator, cw_connection, staging_connection, tmp_path
):
    dag = dagbag.dags["connectwise_callbacks"]
    inbox_uris = {asset.uri for asset in dag.timetable.asset_condition.objects}
    assert inbox_uris == {"connectwise-staging://staging/meta_callback_inbox"}
    url = f"sqlite:///{tmp_path / 'staging.db'}"
    engine = create_staging_engine(url)
    with running_receiver() as receiver:
        cw_connection(simulator, callback_url=receiver.base_url)
        staging_connection(url)
        job = jobs.open_job(engine=engine)
        for entity in REGISTRY.in_dependency_order():
            if not entity.optional:
                jobs.run_sync(job, entity.name, mode="full", run_id="initial")
        install.install(job, "install")
        plan = simulator.mutate("company/contacts", create=2, update=4, delete=1, seed=1)
        expected = {
            (action, record_id)
            for step, action in (
                ("created", "added"),
                ("updated", "updated"),
                ("deleted", "deleted"),
            )
            for record_id in plan[step]
        }

        def inbox() -> set[tuple[str, int]]:
            return {(row["action"], row["record_id"]) for row in inbox_rows(engine)}

        # All 7 deliveries stored, and the simulator done sending before the receiver stops.
        wait_for(
            lambda: inbox() == expected and simulator.sim.dispatcher.pending() == 0,
            what="the 7 planned deliveries in the inbox",
            seen=lambda: {
                "missing": sorted(expected - inbox()),
                "unexpected": sorted(inbox() - expected),
                "simulator callbacks": simulator.stats()["callbacks"],
            },
        )

    staged_before = live_contact_ids(engine)
    run = dag.test(run_conf={"linger_seconds": 0})

    assert run.state == "success"
    assert {row["status"] for row in inbox_rows(engine)} == {"applied"}
    assert_matches_truth(engine, simulator, SEED_FILTER)
    with engine.connect() as connection:
        modes = (
            connection.execute(
                sa.text("SELECT DISTINCT mode FROM meta_sync_runs WHERE run_id = :run"),
                {"run": run.run_id},
            )
            .scalars()
            .all()
        )
    assert modes == ["callback"]

    # One event, on the contacts' table, counting what the deliveries changed there.
    with engine.connect() as connection:
        written = set(
            connection.execute(
                sa.text("SELECT id FROM stg_contacts WHERE run_id LIKE :run"),
                {"run": f"{run.run_id}%"},
            ).scalars()
        )
    deleted_now = set(plan["deleted"]) - live_contact_ids(engine)
    events = events_of(run)
    assert [table for table, _ in events] == ["stg_contacts"]
    extra = events[0][1]
    assert (extra["mode"], extra["run_id"]) == ("callback", run.run_id)
    assert extra["inserted"] == len(written & set(plan["created"]))
    assert extra["updated"] == len(written - set(plan["created"]))
    assert extra["soft_deleted"] == len(deleted_now & staged_before)
    assert extra["inserted"] + extra["updated"] + extra["soft_deleted"] > 0
    assert extra["watermark"]

    # The next run finds the inbox empty: it changes nothing and announces nothing.
    idle = dag.test(run_conf={"linger_seconds": 0})
    assert idle.state == "success"
    assert events_of(idle) == []


def live_contact_ids(engine: sa.Engine) -> set[int]:
    with engine.connect() as connection:
        return set(
            connection.execute(sa.text("SELECT id FROM stg_contacts WHERE deleted_at IS NULL"))
            .scalars()
            .all()
        )
