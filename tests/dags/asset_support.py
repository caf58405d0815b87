"""Read what DAG runs did to Airflow's asset tables, and register DAGs that consume assets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pendulum
from connectwise.assets import staging_asset
from connectwise.entities import Entity

DAGS = Path(__file__).resolve().parents[2] / "dags"


def events_of(run: Any) -> list[tuple[str, dict[str, Any]]]:
    """The asset events a DAG run emitted, in order: (staging table, extra)."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(AssetModel.uri, AssetEvent.extra)
            .join(AssetEvent, AssetEvent.asset_id == AssetModel.id)
            .where(AssetEvent.source_dag_id == run.dag_id, AssetEvent.source_run_id == run.run_id)
            .order_by(AssetEvent.id)
        ).all()
    return [(uri.rsplit("/", 1)[-1], dict(extra)) for uri, extra in rows]


def freshly_parsed(dag_id: str) -> Any:
    """Parse one DAG file of dags/ again: a DAG object no other test has run."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS / f"{dag_id}.py")).dags[dag_id]


def register_consumer(dag_id: str, entity: Entity) -> None:
    """Write a DAG scheduled on the entity's plain asset to the metadata DB, as parsing would."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.collection import update_dag_parsing_results_in_db
    from airflow.sdk import DAG, task
    from airflow.serialization.serialized_objects import LazyDeserializedDAG
    from airflow.utils.session import create_session

    with DAG(
        dag_id,
        schedule=[staging_asset(entity)],
        start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
        catchup=False,
    ) as dag:

        @task
        def refresh() -> None:
            """Stand in for the analyst's work."""

        refresh()
    DagBundlesManager().sync_bundles_to_db()
    with create_session() as session:
        parsed = [LazyDeserializedDAG.from_dag(dag)]
        update_dag_parsing_results_in_db(
            "dags-folder", None, parsed, {}, None, set(), session=session
        )


def due_from_assets() -> set[str]:
    """The DAGs the scheduler would start now because of asset events (its own query)."""
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    with create_session() as session:
        _, triggered = DagModel.dags_needing_dagruns(session)
        due = set(triggered)
        session.rollback()  # the query locks rows; decide nothing
    return due
