"""A PostgreSQL database of the benchmark's own on 127.0.0.1:5432, dropped afterwards.

Benchmarks never write into a database they did not create (the test suite's ``test``
database may be in use by someone else on the same server).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


@contextmanager
def own_database(prefix: str) -> Iterator[str]:
    """Create ``<prefix>_<random>``, yield its URL, then drop it (open connections too)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
        try:
            yield f"{SERVER}/{name}"
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        admin.dispose()


@contextmanager
def fresh_staging(kind: str, workdir: Path, prefix: str) -> Iterator[str]:
    """An empty staging database: an SQLite file in ``workdir``, or a PostgreSQL one of our own."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'staging.db'}"
        return
    with own_database(prefix) as url:
        yield url
