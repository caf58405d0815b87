"""Passive checkpoints of an SQLite staging file run on a thread of their own during a sync."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from connectwise.staging.checkpoints import background_checkpoints
from connectwise.staging.database import create_staging_engine


def _write_without_checkpointing(path: Path, rows: int) -> sqlite3.Connection:
    """Commit ``rows`` rows that stay in the write-ahead log: this connection never copies it."""
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE IF NOT EXISTS filler (id INTEGER PRIMARY KEY, body TEXT)")
    writer.execute("BEGIN")
    writer.executemany("INSERT INTO filler (body) VALUES (?)", [("x" * 2000,)] * rows)
    writer.execute("COMMIT")
    return writer


def _wait_for(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_the_log_is_copied_into_the_database_while_the_block_runs(tmp_path: Path) -> None:
    path = tmp_path / "staging.db"
    writer = _write_without_checkpointing(path, 1)
    engine = create_staging_engine(f"sqlite:///{path}")
    before = path.stat().st_size
    try:
        _write_without_checkpointing(path, 5000).close()
        assert path.stat().st_size == before  # 10 MB sit in the log, not in the file
        with background_checkpoints(engine, interval=0.05):
            assert _wait_for(lambda: path.stat().st_size > before + 5_000_000)
    finally:
        writer.close()
        engine.dispose()


def test_the_thread_ends_with_the_block(tmp_path: Path) -> None:
    engine = create_staging_engine(f"sqlite:///{tmp_path / 'staging.db'}")
    with background_checkpoints(engine, interval=0.05):
        assert "cw-checkpoint" in {thread.name for thread in threading.enumerate()}
    assert "cw-checkpoint" not in {thread.name for thread in threading.enumerate()}
    engine.dispose()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_database_has_nothing_to_checkpoint(url: str) -> None:
    engine = create_staging_engine(url)
    with background_checkpoints(engine, interval=0.05):
        assert "cw-checkpoint" not in {thread.name for thread in threading.enumerate()}
    engine.dispose()


def test_a_database_it_cannot_open_is_logged_and_the_sync_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_staging_engine(f"sqlite:///{tmp_path / 'missing' / 'staging.db'}")
    with caplog.at_level(logging.WARNING), background_checkpoints(engine, interval=0.05):
        assert _wait_for(lambda: "Background checkpoints" in caplog.text)
    engine.dispose()
