"""The pace of a hook's requests: the request budget, retry waits and request statistics.

Which answers are retried is :mod:`connectwise.client.policy`'s table; this module says how
long to wait before the next attempt (exponential back-off with jitter, or ``Retry-After``).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_RETRY_AFTER = 30.0  # the Developer Guide's sample wait when the header is missing


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Return the exponential back-off wait for ``attempt`` (0-based), with full jitter."""
    ceiling = min(cap, base * (2**attempt))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def retry_after_delay(header: str | None, cap: float) -> float:
    """Return the wait asked for by a ``Retry-After`` header (seconds form), capped."""
    try:
        seconds = float(header) if header is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        seconds = DEFAULT_RETRY_AFTER
    return max(0.0, min(seconds, cap))


@dataclass
class RequestStats:
    """Counters of one hook's traffic, written into the run history. Thread-safe."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    wait_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count_request(self) -> None:
        """Record one HTTP request sent."""
        with self._lock:
            self.requests += 1

    def count_retry(self, wait: float, *, throttled: bool) -> None:
        """Record one retry and the time spent waiting for it."""
        with self._lock:
            self.retries += 1
            self.throttled += int(throttled)
            self.wait_seconds += wait

    def snapshot(self) -> dict[str, float]:
        """Return the counters as a plain dict (safe for XCom and logs)."""
        with self._lock:
            return {
                "requests": self.requests,
                "retries": self.retries,
                "throttled": self.throttled,
                "wait_seconds": round(self.wait_seconds, 3),
            }


class RequestBudget:
    """Token bucket shared by all threads of a hook: at most ``per_minute`` requests a minute.

    ConnectWise starts throttling around 1,000 requests a minute per integration (API facts
    §5); staying under that is cheaper than being told to wait 30 seconds.
    """

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 60.0 / per_minute
        self._capacity = max(1.0, per_minute / 20)  # allow short bursts of 3 seconds' worth
        self._tokens = self._capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until one request may be sent."""
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(
                    self._capacity, self._tokens + (now - self._updated) / self._interval
                )
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) * self._interval
            self._sleep(wait)
