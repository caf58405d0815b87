"""A tenants file with a PostgreSQL schema per tenant, for the tests of many tenants."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.conftest import POSTGRES_URL


@contextlib.contextmanager
def tenant_schemas(
    folder: Path, env: Any, names: tuple[str, ...], **extra: dict[str, Any]
) -> Iterator[dict[str, str]]:
    """Write ``folder/tenants.yaml`` (tenant → ``connectwise_<tenant>``, a schema of its own in
    the test database), point the tenants file and ``connectwise_staging`` at them through
    ``env`` (a MonkeyPatch), yield tenant → schema, then drop the schemas.

    ``extra``: more keys of a tenant, e.g. ``globex={"sync_interval": "1h"}``.
    """
    prefix = f"t{uuid.uuid4().hex[:8]}"
    schemas = {name: f"{prefix}_{name}" for name in names}
    lines = ["tenants:"]
    for name, schema in schemas.items():
        keys = {
            "connectwise_conn_id": f"connectwise_{name}",
            "schema": schema,
            **extra.get(name, {}),
        }
        lines += [f"  - id: {name}", *(f"    {key}: {value}" for key, value in keys.items())]
    (folder / "tenants.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    env.setenv("CONNECTWISE_TENANTS_FILE", str(folder / "tenants.yaml"))
    staging = {"conn_type": "generic", "extra": {"sqlalchemy_url": POSTGRES_URL}}
    env.setenv("AIRFLOW_CONN_CONNECTWISE_STAGING", json.dumps(staging))
    try:
        yield schemas
    finally:
        admin = sa.create_engine(POSTGRES_URL)
        with admin.begin() as connection:
            for schema in schemas.values():
                connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()
