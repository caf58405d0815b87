"""The temporary files a sync keeps waiting pages and chunks in, and the error when it cannot."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from connectwise.errors import TemporaryStorageError


def scratch_file(prefix: str, holds: str) -> IO[bytes]:
    """Return an unlinked temporary file for ``holds``: nothing is left behind, whatever stops."""
    with scratch_errors(holds):
        return tempfile.TemporaryFile(prefix=prefix)


@contextmanager
def scratch_errors(holds: str) -> Iterator[None]:
    """Turn a failure of the temporary directory into an error that says what to do.

    Only file operations belong in the block: an ``OSError`` of a socket is not the disk's.
    """
    try:
        yield
    except OSError as exc:
        raise TemporaryStorageError(
            f"Could not keep {holds} in a temporary file in {tempfile.gettempdir()} "
            f"({exc.strerror or exc}). A sync keeps the pages waiting for it and its chunks "
            "there, a few megabytes per task; free space there or point TMPDIR at a larger, "
            "writable volume, then rerun: chunks loaded before stay, and the watermark did not "
            "move, so the rerun reads the rest."
        ) from None
