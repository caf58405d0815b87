"""The staging database: an SQLAlchemy engine from the ``connectwise_staging`` connection."""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url

from connectwise.errors import ConnectWiseConfigError

STAGING_CONN_ID = "connectwise_staging"
log = logging.getLogger(__name__)

# Money columns are REAL on SQLite: bind an amount as the float nearest to it, which holds up
# to 15 significant digits exactly as written (NUMERIC(18,4) amounts of prices and costs).
sqlite3.register_adapter(Decimal, float)


def staging_url(conn_id: str = STAGING_CONN_ID) -> URL:
    """Return the staging database URL from the Airflow connection ``conn_id``.

    The connection may be any conn type with extra ``sqlalchemy_url``; a ``postgres``
    connection with host/login/password/schema; or a ``sqlite`` connection whose host is the
    file path. Without the connection, an SQLite file in ``$AIRFLOW_HOME`` is the embedded
    default.

    Raises:
        ConnectWiseConfigError: the connection exists but describes no usable database.
    """
    connection = _airflow_connection(conn_id)
    if connection is None:
        home = Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow"))
        return make_url(f"sqlite:///{home / 'connectwise_staging.db'}")
    extra = connection.extra_dejson
    if extra.get("sqlalchemy_url"):
        return _normalise(make_url(str(extra["sqlalchemy_url"])))
    conn_type = (connection.conn_type or "").lower()
    if conn_type in ("postgres", "postgresql"):
        return URL.create(
            "postgresql+psycopg",
            username=connection.login or None,
            password=connection.password or None,
            host=connection.host or "localhost",
            port=connection.port or 5432,
            database=connection.schema or "postgres",
        )
    if conn_type == "sqlite" and connection.host:
        return make_url(f"sqlite:///{connection.host}")
    raise ConnectWiseConfigError(
        f"Connection {conn_id!r} (type {conn_type!r}) does not say which database to use: "
        "set extra 'sqlalchemy_url' (e.g. postgresql+psycopg://user@host:5432/db or "
        "sqlite:////path/staging.db), or use a postgres connection."
    )


WAL_CHECKPOINT_PAGES = 16384  # 64 MB of 4 KB pages


def create_staging_engine(url: URL | str) -> Engine:
    """Create the engine; SQLite gets WAL and a busy timeout so readers never block loads."""
    url = _normalise(make_url(url) if isinstance(url, str) else url)
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, connect_args={"timeout": 60})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # A staged row takes ~4 KB (raw JSON beside the columns), so SQLite's default
            # checkpoint every 4 MB ran an fsync'ing checkpoint at nearly every chunk's commit;
            # every 64 MB halves what loads spend in checkpoints. The WAL file is cut back to
            # that size after each checkpoint.
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            cursor.execute(f"PRAGMA journal_size_limit={WAL_CHECKPOINT_PAGES * 4096}")
            cursor.close()

        return engine
    if url.get_backend_name() != "postgresql":
        raise ConnectWiseConfigError(
            f"Staging database {url.get_backend_name()!r} is not supported: use PostgreSQL "
            "(postgresql+psycopg://...) or SQLite (sqlite:///...)."
        )
    engine = sa.create_engine(url, pool_pre_ping=True)
    sa.event.listen(engine, "connect", _prefer_lz4)
    return engine


def _prefer_lz4(dbapi_connection: Any, _record: Any) -> None:
    """Compress what this connection writes out of line (raw JSON) with lz4, where built in.

    A staged record's JSONB is ~1.4 KB compressed, ~2 KB not: PostgreSQL compresses it, and its
    default pglz spent ~35 µs a row of the server's CPU in an initial sync; lz4 spends ~5 µs
    for the same size. Values already stored keep their method; a server built without lz4
    keeps pglz.
    """
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET default_toast_compression = 'lz4'")
    except Exception:  # the driver's error: lz4 is not built in (or the server predates 14)
        dbapi_connection.rollback()
    else:
        dbapi_connection.commit()  # keep the setting past the pool's reset-on-return rollback
    finally:
        cursor.close()


def defer_flush(connection: Connection) -> None:
    """Let this transaction's commit return before PostgreSQL writes its WAL to disk.

    For a sync's chunk transactions: the run's closing commit (watermark and run row) is
    synchronous and flushes the WAL up to it, chunks included, and WAL replays in order, so a
    crash can only lose chunks of a run that never recorded success, whose watermark did not
    move and whose rerun reads them again. SQLite in WAL mode with ``synchronous=NORMAL``
    already commits without waiting for the disk.
    """
    if is_postgres(connection.engine):
        connection.exec_driver_sql("SET LOCAL synchronous_commit = off")


def staging_engine(conn_id: str = STAGING_CONN_ID, *, schema: str | None = None) -> Engine:
    """Return an engine for the staging database of ``conn_id`` (one tenant's ``schema``)."""
    url = tenant_url(staging_url(conn_id), schema)
    log.info("Staging database: %s", url.render_as_string(hide_password=True))
    engine = create_staging_engine(url)
    if schema and is_postgres(engine):
        create_schema(engine, schema)
    return engine


def tenant_url(url: URL, schema: str | None) -> URL:
    """Point ``url`` at one tenant's part of it: a PostgreSQL schema, or its own SQLite file.

    On PostgreSQL every statement of the package names tables without a schema, so the
    connection's ``search_path`` keeps one tenant's tables apart from another's. On SQLite the
    tenant's file sits beside the connection's: ``staging.db`` → ``staging__cw_acme.db``.
    """
    if not schema:
        return url
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "connectwise_staging.db")
        return url.set(database=str(path.with_name(f"{path.stem}__{schema}{path.suffix}")))
    options = str(url.query.get("options") or "")
    options = re.sub(r"-c\s*search_path=\S+", "", options).strip()
    return url.update_query_dict({"options": f"{options} -csearch_path={schema}".strip()})


def create_schema(engine: Engine, schema: str) -> None:
    """Create a tenant's PostgreSQL schema unless it exists (two tasks may race to it)."""
    with engine.begin() as connection:
        exists = connection.execute(
            sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :schema"), {"schema": schema}
        ).scalar()
        if exists:
            return
        try:
            with connection.begin_nested():
                connection.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        except sa.exc.IntegrityError:  # created by another task between the two statements
            pass


def is_postgres(engine: Engine) -> bool:
    """Tell whether the staging database is PostgreSQL (else SQLite)."""
    return engine.dialect.name == "postgresql"


def utc_now() -> datetime:
    """Return the current time in UTC (aware)."""
    return datetime.now(UTC)


def _normalise(url: URL) -> URL:
    # The bulk path needs psycopg 3 (COPY); plain postgresql:// would pick psycopg2.
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        return url.set(drivername="postgresql+psycopg")
    return url


def _airflow_connection(conn_id: str) -> Any:
    from airflow.sdk import BaseHook

    try:
        return BaseHook.get_connection(conn_id)
    except Exception as exc:
        if "isn't defined" in str(exc) or type(exc).__name__ == "AirflowNotFoundException":
            return None
        raise
