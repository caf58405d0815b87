"""Looking up fields of staged raw records, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from connectwise.entities import REGISTRY
from connectwise.staging.database import is_postgres
from connectwise.staging.lookups import latest_raw_values
from sqlalchemy.engine import Engine

NOW = "2024-05-06T07:08:09Z"
CUSTOMER = [{"id": 1, "name": "Customer"}]
VENDOR = [{"id": 9, "name": "Vendor"}]


def stage_company(engine: Engine, company_id: int, raw: dict[str, Any], *, deleted: bool = False):
    json_value = "CAST(:raw AS JSONB)" if is_postgres(engine) else ":raw"
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO stg_companies (id, raw, record_hash, mapping_version, first_seen_at, "
                f"loaded_at, deleted_at) VALUES (:id, {json_value}, 'h', 'v', :now, :now, :deleted)"
            ),
            {
                "id": company_id,
                "raw": json.dumps(raw),
                "now": NOW,
                "deleted": NOW if deleted else None,
            },
        )


def quarantine_company(engine: Engine, company_id: int, raw: dict[str, Any], *, resolved: bool):
    json_value = "CAST(:raw AS JSONB)" if is_postgres(engine) else ":raw"
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO meta_quarantine (entity, record_key, record_id, run_id, check_name, "
                f"reason, payload, quarantined_at, resolved_at) VALUES ('companies', :key, :id, "
                f"'r', 'status_id', 'unknown status', {json_value}, :now, :resolved)"
            ),
            {
                "key": str(company_id),
                "id": company_id,
                "raw": json.dumps(raw),
                "now": NOW,
                "resolved": NOW if resolved else None,
            },
        )


def test_latest_raw_values_yield_staged_then_quarantined_versions(engine: Engine):
    stage_company(engine, 1, {"id": 1, "types": CUSTOMER})
    stage_company(engine, 2, {"id": 2, "types": CUSTOMER})
    stage_company(engine, 3, {"id": 3, "types": CUSTOMER}, deleted=True)
    stage_company(engine, 4, {"id": 4})
    quarantine_company(engine, 2, {"id": 2, "types": VENDOR}, resolved=False)
    quarantine_company(engine, 1, {"id": 1, "types": VENDOR}, resolved=True)

    values = list(latest_raw_values(engine, REGISTRY["companies"], "types"))

    # Staged rows first (no soft-deleted ones), then the newer versions held in quarantine.
    assert sorted(values[:3]) == [(1, CUSTOMER), (2, CUSTOMER), (4, None)]
    assert values[3:] == [(2, VENDOR)]


def test_latest_raw_values_refuse_a_path_instead_of_a_field_name(engine: Engine):
    with pytest.raises(ValueError, match="top-level field name"):
        list(latest_raw_values(engine, REGISTRY["companies"], "types') OR 1=1 --"))
