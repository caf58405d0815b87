"""Check one spilled chunk, then load what passes and quarantine the rest, in one transaction."""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection, Engine

from connectwise.quality.checks import Check
from connectwise.quality.gate import QualityGate
from connectwise.spilled_chunk import SpilledChunk
from connectwise.staging.database import defer_flush, utc_now
from connectwise.staging.quarantine import has_open_quarantine, quarantine, resolve_quarantine
from connectwise.staging.writer import LoadCounts, StagingWriter

Row = dict[str, Any]
Failures = dict[int, list[Check]]


@dataclass
class ChunkResult:
    """What loading one chunk did."""

    counts: LoadCounts = field(default_factory=LoadCounts)
    quarantined: int = 0


def check_and_load(
    engine: Engine, gate: QualityGate, writer: StagingWriter, chunk: SpilledChunk, run_id: str
) -> ChunkResult:
    """Validate ``chunk`` at once, then load it in one transaction; return what it did.

    The parts are read back from the chunk's file: once for the values the checks need (and
    the rows' ids), then to load. On PostgreSQL a chunk none of whose records is staged (an
    initial sync's) is one COPY straight into the table, its parts written into it one after
    another: a COPY, a savepoint and a staged-state query per part of 100 rows were most of
    a load's time. Any other chunk loads part by part, each part's rows classified against
    what is staged.
    """
    checks = gate.chunk_checks()
    ids = array("q")  # only PostgreSQL looks them up: SQLite loads part by part anyway
    for rows, _rejected in chunk.parts():
        checks.add(rows)
        if writer.postgres:
            ids.extend([row["id"] for row in rows])
        del rows, _rejected  # a loop variable holds its part while the next is read
    failures = checks.failures()
    del checks
    loaded_at = utc_now()
    with engine.begin() as connection:
        defer_flush(connection)  # the run's closing commit flushes it
        if has_open_quarantine(connection, gate.entity.name):  # an initial sync has none
            return _load_parts(connection, gate, writer, chunk, failures, run_id, loaded_at)
        if writer.postgres and not writer.any_staged(connection, ids):
            passed = (rows for rows, _rejected in _rejected_parts(gate, chunk, failures))
            inserted = writer.copy_new(connection, passed, run_id, loaded_at)
            if inserted is not None:
                result = ChunkResult(LoadCounts(inserted=inserted))
                if chunk.rejected or failures:
                    result.quarantined = _quarantine_only(connection, gate, chunk, failures, run_id)
                return result
        return _load_parts(
            connection, gate, writer, chunk, failures, run_id, loaded_at, resolving=False
        )


def _rejected_parts(
    gate: QualityGate, chunk: SpilledChunk, failures: Failures
) -> Iterator[tuple[list[Row], list[Any]]]:
    """Yield each part's rows that passed and its rejections (the checks' failures added)."""
    offset = 0
    for rows, rejected in chunk.parts():
        passed: list[Row] = []
        for position, row in enumerate(rows, start=offset):
            if failed := failures.get(position):
                rejected.append(gate.rejection(row, failed))
            else:
                passed.append(row)
        offset += len(rows)
        yield passed, rejected
        del rows, rejected, passed


def _quarantine_only(
    connection: Connection, gate: QualityGate, chunk: SpilledChunk, failures: Failures, run_id: str
) -> int:
    """Quarantine a chunk's rejections, its passing rows loaded already."""
    name = gate.entity.name
    return sum(
        quarantine(connection, name, rejected, run_id)
        for _passed, rejected in _rejected_parts(gate, chunk, failures)
    )


def _load_parts(
    connection: Connection,
    gate: QualityGate,
    writer: StagingWriter,
    chunk: SpilledChunk,
    failures: Failures,
    run_id: str,
    loaded_at: datetime,
    *,
    resolving: bool = True,
) -> ChunkResult:
    """Load part by part; with ``resolving``, close the quarantine rows of what loaded."""
    name, result = gate.entity.name, ChunkResult()
    for passed, rejected in _rejected_parts(gate, chunk, failures):
        result.counts.add(writer.load(connection, passed, run_id, loaded_at=loaded_at))
        result.quarantined += quarantine(connection, name, rejected, run_id)
        if resolving:
            resolve_quarantine(connection, name, [row["id"] for row in passed])
    return result
