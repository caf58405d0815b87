"""Injected faults for ``apis/3.0`` requests: throttling, 5xx, truncation, hangs, lost writes.

All random choices come from the simulator's seeded fault RNG, so a run is repeatable.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import TYPE_CHECKING

from simulator.store import encode

if TYPE_CHECKING:
    from simulator.core import Simulator

# A lost write response ends the TCP connection after the change is committed (uvicorn closes
# the transport when the app stops mid-response), so the client sees a dropped connection.
LOST_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
_HTML_5XX = {
    502: b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad "
         b"Gateway</h1></center><hr><center>cloudflare</center></body></html>",
    503: b"<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
         b"<center><h1>503 Service Temporarily Unavailable</h1></center></body></html>",
    504: b"<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 "
         b"Gateway Time-out</h1></center><hr><center>cloudflare</center></body></html>",
}


class Throttle:
    """Sliding window (one minute unless configured) of request times per credentials."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}

    def clear(self) -> None:
        """Forget every window."""
        with self._lock:
            self._windows.clear()

    def over_limit(self, key: str, limit: int, window_seconds: float = 60.0) -> bool:
        """Record a request; return True when it exceeds ``limit`` within the window."""
        now = time.monotonic()
        with self._lock:
            window = self._windows.setdefault(key, deque())
            while window and now - window[0] >= window_seconds:
                window.popleft()
            if len(window) >= limit:
                return True
            window.append(now)
            return False


def roll(sim: Simulator, rate: float) -> bool:
    """Return True with probability ``rate`` from the seeded fault RNG."""
    return rate > 0 and sim.fault_rng.random() < rate


def throttled_response(seconds: int) -> tuple[int, dict[str, str], bytes]:
    """Return the 429 answer; note the ``error`` key of this body (facts §2, §5)."""
    body = {"error": "ConnectWiseAPI",
            "message": f"Too many requests. Please try again in {seconds} seconds."}
    return 429, {"Retry-After": str(seconds), "Content-Type": "application/json"}, encode(body)


def server_error(sim: Simulator) -> tuple[int, dict[str, str], bytes]:
    """Return a random 5xx: ConnectWise's JSON 500 or a proxy's HTML 502/503.

    The exact 500 body is our choice (DG: 500 is used "when another error message has not
    been defined").
    """
    return error_answer(sim.fault_rng.choice((500, 500, 502, 503)))


def error_answer(status: int) -> tuple[int, dict[str, str], bytes]:
    """Return the answer of one 5xx status: JSON from ConnectWise (500), HTML from a proxy."""
    if status == 500:
        body = encode({"code": "ConnectWiseApi", "message": "An error has occurred.",
                       "errors": None})
        return 500, {"Content-Type": "application/json"}, body
    return status, {"Content-Type": "text/html"}, _HTML_5XX[status]


def take_write_error(sim: Simulator, method: str, *, applied: bool) -> bool:
    """Use up one of the writes that are to fail (before or after being applied)."""
    settings = sim.faults
    name = "write_errors_after" if applied else "write_errors_before"
    if method not in LOST_WRITE_METHODS or getattr(settings, name) <= 0:
        return False
    setattr(settings, name, getattr(settings, name) - 1)
    sim.stats.add_fault("write_5xx")
    return True


def truncate(sim: Simulator, body: bytes) -> bytes:
    """Cut a body somewhere inside, so it is no longer valid JSON."""
    if len(body) < 2:
        return body[:0]
    return body[: sim.fault_rng.randrange(1, len(body) - 1 if len(body) > 2 else 2)]
