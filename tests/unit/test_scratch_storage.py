"""A full or missing temporary directory fails a sync with an error that says what to do."""

from __future__ import annotations

import tempfile

import pytest
import requests
from connectwise.client.bodies import spool_body
from connectwise.errors import TemporaryStorageError
from connectwise.spilled_chunk import SpilledChunk

ROW = {"id": 1, "raw": '{"id": 1}'}


def test_a_missing_temporary_directory_names_itself_and_the_fix(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    with pytest.raises(TemporaryStorageError) as raised:
        SpilledChunk()
    message = str(raised.value)
    assert str(tmp_path / "gone") in message
    assert "No such file or directory" in message
    assert "TMPDIR" in message


def full_disk(monkeypatch) -> None:
    """Temporary files that fail every write the way a full disk does (ENOSPC)."""
    monkeypatch.setattr(tempfile, "TemporaryFile", lambda **_: open("/dev/full", "w+b"))  # noqa: SIM115


def test_a_full_disk_stops_a_chunk_with_a_clear_error(monkeypatch) -> None:
    full_disk(monkeypatch)
    chunk = SpilledChunk()
    with pytest.raises(TemporaryStorageError, match=r"No space left on device.*TMPDIR"):
        for _ in range(100):  # the file's buffer fills first
            chunk.add([ROW] * 100, [])
    chunk.close()


def test_a_full_disk_stops_a_spooled_page_with_a_clear_error(monkeypatch) -> None:
    class Body:
        def __init__(self) -> None:
            self.slices = [b"[" + b'{"id": 1},' * 50_000, b'{"id": 2}]']

        def read(self, *_: object, **__: object) -> bytes:
            return self.slices.pop(0) if self.slices else b""

    answer = requests.Response()
    answer.status_code = 200
    answer.raw = Body()
    full_disk(monkeypatch)
    with pytest.raises(TemporaryStorageError, match=r"a page of records.*No space left"):
        spool_body(answer)
