"""Connection settings of the staging database that loads rely on."""

from __future__ import annotations

from connectwise.staging.database import create_staging_engine, defer_flush
from sqlalchemy.engine import Engine


def test_postgres_connections_compress_with_lz4_even_after_the_pool_reset_them(
    postgres_url: str,
) -> None:
    engine = create_staging_engine(postgres_url)
    try:
        for _ in range(2):  # the second checkout gets the pooled connection back, reset
            with engine.connect() as connection:
                setting = connection.exec_driver_sql("SHOW default_toast_compression").scalar()
                assert setting == "lz4"
    finally:
        engine.dispose()


def test_only_a_chunk_transaction_commits_without_waiting_for_the_disk(engine: Engine) -> None:
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        defer_flush(connection)  # on SQLite there is nothing to defer: it must not fail
        if postgres:
            assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
    if postgres:
        with engine.begin() as connection:  # the run's closing commit waits for the disk
            assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
