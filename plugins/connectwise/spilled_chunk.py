"""A chunk's mapped rows kept in a temporary file between the mapping and the load."""

from __future__ import annotations

import contextlib
import pickle
from collections.abc import Iterator
from typing import Any

from connectwise.client.scratch import scratch_errors, scratch_file
from connectwise.staging.records import Rejection

Row = dict[str, Any]


class SpilledChunk:
    """The mapped rows and rejections of one chunk, kept in a temporary file until it loads.

    A chunk gathers thousands of rows so each Great Expectations validation and each
    transaction pays off; in memory, 5,000 contacts were ~15 MB (their records' JSON most of
    it), and a sync held two. Here a chunk costs the part being written or read: its loader
    reads the parts back one at a time, in the order they came, once to gather what the
    quality checks need and once to load. The file is unlinked as it is created, so nothing
    is left behind, whatever stops the sync.
    """

    def __init__(self) -> None:
        self.rows = 0
        self.rejected = 0
        self.bytes = 0  # of the rows' record JSON (``raw``): what the chunk writes
        self._file = scratch_file("cw-chunk-", "a chunk of mapped rows")

    def add(self, rows: list[Row], rejected: list[Rejection]) -> None:
        """Append one part: mapped rows and the records that could not be mapped."""
        if not rows and not rejected:
            return
        with scratch_errors("a chunk of mapped rows"):
            pickle.dump((rows, rejected), self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self.rows += len(rows)
        self.rejected += len(rejected)
        self.bytes += sum(len(row["raw"]) for row in rows)

    def parts(self) -> Iterator[tuple[list[Row], list[Rejection]]]:
        """Yield the parts as they were added, reading one at a time."""
        with scratch_errors("a chunk of mapped rows"):
            self._file.flush()
        self._file.seek(0)
        while True:
            try:
                yield pickle.load(self._file)  # noqa: S301 - our own file, written above
            except EOFError:
                return

    def close(self) -> None:
        """Delete the file (it is unlinked already: this frees its space).

        What is still buffered is discarded with it: a full disk fails the chunk once, in
        :meth:`add` or :meth:`parts`, not again here.
        """
        with contextlib.suppress(OSError):
            self._file.close()

    @property
    def is_empty(self) -> bool:
        """True until a row or a rejection is added."""
        return not (self.rows or self.rejected)
