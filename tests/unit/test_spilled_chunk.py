"""A chunk's rows wait in a temporary file: read back whole, in order, and gone once closed."""

from __future__ import annotations

import decimal
import gc
import json
import tempfile
import tracemalloc
from datetime import UTC, datetime

from connectwise.spilled_chunk import SpilledChunk
from connectwise.staging.records import Rejection


def contact_row(number: int) -> dict[str, object]:
    return {
        "id": number,
        "first_name": f"Ada {number}",
        "price": decimal.Decimal("12.50"),
        "last_updated": datetime(2024, 5, 1, 12, number % 60, tzinfo=UTC),
        "raw": json.dumps({"id": number, "notes": "x" * 2000}),
    }


def test_parts_come_back_as_they_were_added_with_their_rejections() -> None:
    chunk = SpilledChunk()
    first = [contact_row(n) for n in range(3)]
    bad = Rejection(7, "mapping", "first_name is not text", '{"id": 7}')
    chunk.add(first, [bad])
    chunk.add([], [])  # nothing: no part
    chunk.add([contact_row(3)], [])

    assert list(chunk.parts()) == [(first, [bad]), ([contact_row(3)], [])]
    assert list(chunk.parts()) == [(first, [bad]), ([contact_row(3)], [])]  # read again
    assert (chunk.rows, chunk.rejected) == (4, 1)
    assert chunk.bytes == sum(len(row["raw"]) for row in [*first, contact_row(3)])
    chunk.close()


def test_an_empty_chunk_says_so() -> None:
    chunk = SpilledChunk()
    assert chunk.is_empty
    chunk.add([], [Rejection(None, "mapping", "no id", "{}")])
    assert not chunk.is_empty
    chunk.close()


def test_the_rows_wait_on_disk_not_in_memory() -> None:
    rows = [contact_row(n) for n in range(2000)]  # ~4 MB of record JSON
    gc.collect()
    tracemalloc.start()
    try:
        chunk = SpilledChunk()
        for start in range(0, len(rows), 250):
            chunk.add(rows[start : start + 250], [])
        held, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 256 * 1024  # the rows' 4 MB are in the file
    assert sum(len(part) for part, _ in chunk.parts()) == 2000
    chunk.close()


def test_the_file_is_never_visible(tmp_path, monkeypatch) -> None:
    # Unlinked as it is created: a sync killed mid-chunk leaves nothing in the temp directory.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    chunk = SpilledChunk()
    chunk.add([contact_row(1)], [])
    assert list(tmp_path.iterdir()) == []
    assert [row["id"] for rows, _ in chunk.parts() for row in rows] == [1]
    chunk.close()
