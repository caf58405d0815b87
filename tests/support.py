"""Helpers shared by the integration tests: read staging tables, compute expected truth."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from connectwise.entities import REGISTRY, Entity

ROOT = Path(__file__).resolve().parents[1]


def staged_rows(engine: sa.Engine, entity: Entity) -> dict[int, dict[str, Any]]:
    """Every live row of an entity's staging table, keyed by id, with ``raw`` parsed."""
    with engine.connect() as connection:
        result = connection.execute(
            sa.text(f"SELECT * FROM {entity.staging_table} WHERE deleted_at IS NULL")
        )
        rows = {}
        for row in result.mappings():
            record = dict(row)
            raw = record["raw"]
            record["raw"] = raw if isinstance(raw, dict) else json.loads(raw)
            rows[int(record["id"])] = record
    return rows


def quarantined(engine: sa.Engine, entity: Entity) -> dict[int, str]:
    """Open quarantine rows of an entity: record id → reason."""
    with engine.connect() as connection:
        result = connection.execute(
            sa.text(
                "SELECT record_id, reason FROM meta_quarantine "
                "WHERE entity = :entity AND resolved_at IS NULL"
            ),
            {"entity": entity.name},
        )
        return {int(row[0]): row[1] for row in result if row[0] is not None}


def expected_records(sim: Any, entity: Entity, contact_types: set[str] | None) -> dict[int, Any]:
    """The simulator's truth for an entity, with the contact filter applied independently."""
    truth = {int(record["id"]): record for record in sim.truth(collection_of(entity))}
    if entity.name != "contacts" or contact_types is None:
        return truth
    allowed = {
        int(company["id"])
        for company in sim.truth("company/companies")
        if {t["name"].casefold() for t in company.get("types") or []} & contact_types
    }
    return {
        record_id: record
        for record_id, record in truth.items()
        if (record.get("company") or {}).get("id") in allowed
    }


def assert_matches_truth(
    engine: sa.Engine, sim: Any, contact_types: set[str] | None, *, optional: tuple[str, ...] = ()
) -> None:
    """Every staging table equals the simulator's truth, record by record, except
    quarantined records, each of which has a reason. Optional entities count when named."""
    for entity in REGISTRY:
        if entity.optional and entity.name not in optional:
            continue
        expected = expected_records(sim, entity, contact_types)
        staged = staged_rows(engine, entity)
        held = quarantined(engine, entity)
        assert all(reason for reason in held.values()), f"{entity.name}: quarantine w/o reason"
        missing = set(expected) - set(staged) - set(held)
        extra = set(staged) - set(expected)
        assert not missing, (
            f"{entity.name}: {len(missing)} records missing, e.g. {sorted(missing)[:5]}"
        )
        assert not extra, f"{entity.name}: {len(extra)} unexpected rows, e.g. {sorted(extra)[:5]}"
        for record_id, row in staged.items():
            assert row["raw"] == expected[record_id], f"{entity.name} {record_id} differs"


def mapping_with_additions(folder: Path) -> str:
    """A copy of the shipped mapping with the optional agreement additions enabled."""
    text = (ROOT / "include/mappings/connectwise.yaml").read_text()
    head, section = text.split("  # agreement_additions:", 1)
    enabled = "  agreement_additions:" + section.replace("\n  #   ", "\n    ").replace(
        "\n  #     ", "\n      "
    )
    path = folder / "mapping-with-additions.yaml"
    path.write_text(head + enabled)
    return str(path)


def process_janitor(monkeypatch: pytest.MonkeyPatch, marker: str) -> Iterator[Any]:
    """Body of a ``janitor`` fixture: find every process the test starts (``scripts/janitor.py``).

    The simulator subprocess inherits ``os.environ``, so the marker is set there too. The test
    fails if anything survives its teardown.
    """
    from scripts.janitor import Janitor

    keeper = Janitor(uuid.uuid4().hex, marker)
    for key, value in keeper.env("simulator").items():
        monkeypatch.setenv(key, value)
    yield keeper
    leftovers = keeper.pids()
    if leftovers:
        keeper.stop(grace=5)
    assert not leftovers, f"processes left running after the test: {leftovers}"


def collection_of(entity: Entity) -> str:
    """The simulator's collection of an entity: its endpoint without the parent placeholder."""
    return entity.endpoint.replace("/{parent_id}", "")
