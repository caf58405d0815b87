"""The connectwise_push DAG: its shape, and a run that pushes outbox rows to the simulator."""

from __future__ import annotations

import sqlalchemy as sa

from tests.dags.asset_support import events_of


def test_push_dag_runs_often_one_at_a_time_with_contacts_before_todos(dagbag):
    dag = dagbag.dags["connectwise_push"]
    assert dag.schedule == "*/5 * * * *"
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert set(dag.task_ids) == {"push_contacts", "push_todos", "push_quotes", "push_stages"}
    assert dag.get_task("push_todos").upstream_task_ids == {"push_contacts"}


def test_push_dag_run_pushes_the_outbox_and_records_the_run(
    airflow_db, dagbag, simulator, cw_connection, staging_connection, tmp_path
):
    from connectwise import jobs
    from connectwise.staging.database import create_staging_engine

    url = f"sqlite:///{tmp_path / 'staging.db'}"
    cw_connection(simulator)
    staging_connection(url)
    engine = create_staging_engine(url)
    jobs.open_job(engine=engine)  # migrate
    company = next(
        c for c in simulator.truth("company/companies") if c["types"][0]["name"] == "Customer"
    )
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO outbox_contacts (company_id, first_name, email) "
                "VALUES (:company, 'Grace', 'grace@example.com')"
            ),
            {"company": company["id"]},
        )
        connection.execute(
            sa.text(
                "INSERT INTO outbox_todos (contact_email, subject) "
                "VALUES ('grace@example.com', 'Intro call')"
            )
        )
    run = dagbag.dags["connectwise_push"].test()
    assert run.state == "success"
    with engine.connect() as connection:
        statuses = connection.execute(
            sa.text(
                "SELECT c.status, t.status, t.activity_id FROM outbox_contacts c, outbox_todos t"
            )
        ).one()
        flows = dict(
            connection.execute(
                sa.text("SELECT flow, sent FROM meta_push_runs WHERE run_id = :run"),
                {"run": run.run_id},
            ).all()
        )
    assert statuses[:2] == ("sent", "sent")  # the to-do found the contact pushed just before
    activity = next(a for a in simulator.truth("sales/activities") if a["id"] == statuses[2])
    assert activity["name"] == "Intro call" and activity["assignTo"]["identifier"] == "admin"
    assert flows == {"contacts": 1, "todos": 1, "quotes": 0, "stages": 0}
    # Re-staging the pushed contact changed stg_contacts: one event there, from push_contacts.
    events = events_of(run)
    assert [table for table, _ in events] == ["stg_contacts"]
    extra = events[0][1]
    assert (extra["mode"], extra["run_id"]) == ("push", run.run_id)
    assert (extra["inserted"], extra["updated"], extra["soft_deleted"]) == (1, 0, 0)
    idle = dagbag.dags["connectwise_push"].test()  # nothing waiting: nothing announced
    assert idle.state == "success"
    assert events_of(idle) == []
