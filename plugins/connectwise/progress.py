"""Progress of long work in the task log: counts, rate and ETA at most every few seconds."""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)


class Progress:
    """Log counts, rate and ETA at most every ``every`` seconds."""

    def __init__(self, name: str, expected: int, every: float) -> None:
        self.name = name
        self.expected = expected
        self.every = every
        self.started = time.monotonic()
        self.logged = self.started

    def update(self, fetched: int) -> None:
        """Log progress if enough time passed since the last line."""
        now = time.monotonic()
        if now - self.logged >= self.every:
            self.logged = now
            self._log(fetched, now)

    def done(self, fetched: int) -> None:
        """Log the final line."""
        self._log(fetched, time.monotonic())

    def _log(self, fetched: int, now: float) -> None:
        elapsed = max(now - self.started, 1e-6)
        rate = fetched / elapsed
        remaining = max(self.expected - fetched, 0)
        eta = remaining / rate if rate else 0.0
        share = fetched / self.expected if self.expected else 1.0
        log.info(
            "%s: %d of %d records (%.0f%%), %.0f records/s, ETA %.0f s",
            self.name,
            fetched,
            self.expected,
            share * 100,
            rate,
            eta,
        )
