"""Staging fixtures: a migrated database on each dialect and writers fed by the real mapper."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from connectwise.staging.database import create_staging_engine
from connectwise.staging.migrations import migrate
from sqlalchemy.engine import Engine


@pytest.fixture
def engine(staging_url: str) -> Iterator[Engine]:
    """A migrated, empty staging database (SQLite, then PostgreSQL)."""
    database = create_staging_engine(staging_url)
    migrate(database)
    yield database
    database.dispose()


@pytest.fixture
def bare_engine(staging_url: str) -> Iterator[Engine]:
    """An empty staging database without any table (SQLite, then PostgreSQL)."""
    database = create_staging_engine(staging_url)
    yield database
    database.dispose()


def table_names(database: Engine) -> set[str]:
    return set(sa.inspect(database).get_table_names())
