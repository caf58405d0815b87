"""The lookup tables share one task; one failing lookup neither hides nor blocks the others."""

from __future__ import annotations

import sqlalchemy as sa
from connectwise.dag_graph import LOOKUPS_TASK_ID
from connectwise.entities import REGISTRY
from connectwise.staging.database import create_staging_engine

from tests.support import expected_records, staged_rows


def test_a_denied_lookup_fails_the_task_by_name_after_the_others_landed(
    airflow_db, dagbag, cw_connection, staging_connection, tmp_path, collected_logs
):
    from simulator.testing import running_simulator

    url = f"sqlite:///{tmp_path / 'staging.db'}"
    with running_simulator(scale="small", seed=11) as sim:
        sim.set_auth(denied_modules=["Sales"])  # opportunity statuses and sales stages
        cw_connection(sim)
        staging_connection(url)
        run = dagbag.dags["connectwise_incremental_sync"].test()

        states = {ti.task_id: ti.state for ti in run.get_task_instances()}
        assert states[LOOKUPS_TASK_ID] == "failed"
        engine = create_staging_engine(url)
        with engine.connect() as connection:
            status = dict(
                connection.execute(sa.text("SELECT entity, status FROM meta_sync_runs")).all()
            )
        denied = {"opportunity_statuses", "sales_stages"}
        for entity in REGISTRY:
            if entity.lookup and entity.name not in denied:
                assert status[entity.name] == "success", entity.name
                truth = expected_records(sim, entity, None)
                assert set(staged_rows(engine, entity)) == set(truth), entity.name
        assert all(status.get(name) != "success" for name in denied)
    logged = "\n".join(collected_logs)
    assert "opportunity_statuses was not synced" in logged
    assert "sales_stages was not synced" in logged
