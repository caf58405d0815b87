"""One simulated ConnectWise tenant: data, settings, statistics and background workers."""

from __future__ import annotations

import contextlib
import copy
import random
import threading
import uuid
from collections import Counter
from typing import Any

from simulator.callbacks import Dispatcher
from simulator.errors import ApiError
from simulator.faults import Throttle
from simulator.generator import API_MEMBER_IDENTIFIER, generate
from simulator.resources import REGISTRY
from simulator.settings import DEFAULT_CODEBASE, AuthSettings, CallbackSettings, FaultSettings
from simulator.store import Store
from simulator.writes import Scope, Writer


class Stats:
    """Request, fault and callback counters; safe to update from any thread."""

    FAULT_KINDS = ("5xx", "truncated", "hang", "lost_write", "write_5xx")
    CALLBACK_KINDS = ("delivered", "failed", "attempts")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self.requests_total = 0
            self.by_endpoint: Counter[str] = Counter()
            self.by_status: Counter[str] = Counter()
            self.throttled = 0
            self.faults: Counter[str] = Counter(dict.fromkeys(self.FAULT_KINDS, 0))
            self.callbacks: Counter[str] = Counter(dict.fromkeys(self.CALLBACK_KINDS, 0))

    def add_request(self, endpoint: str, status: int) -> None:
        """Count one answered request."""
        with self._lock:
            self.requests_total += 1
            self.by_endpoint[endpoint] += 1
            self.by_status[str(status)] += 1
            if status == 429:
                self.throttled += 1

    def add_fault(self, kind: str) -> None:
        """Count one injected fault."""
        with self._lock:
            self.faults[kind] += 1

    def add_callback(self, kind: str) -> None:
        """Count a callback delivery outcome or attempt."""
        with self._lock:
            self.callbacks[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        """Return the ``/_sim/stats`` document."""
        with self._lock:
            return {
                "requests_total": self.requests_total,
                "by_endpoint": dict(self.by_endpoint),
                "by_status": dict(self.by_status),
                "throttled": self.throttled,
                "faults": {k: self.faults[k] for k in self.FAULT_KINDS},
                "callbacks": {k: self.callbacks[k] for k in self.CALLBACK_KINDS},
            }


def build_store(scale: str, seed: int) -> Store:
    """Generate a tenant and load it into a fresh store."""
    store = Store(generate(scale, seed))
    items = [i["id"] for c in store["company/contacts"] for i in c["communicationItems"]]
    store.meta["next_comm_item"] = max(items, default=0) + 1
    return store


class Simulator:
    """Everything the HTTP layer serves; one instance per running server."""

    def __init__(
        self, scale: str = "small", seed: int = 1, *, faults: FaultSettings | None = None,
        auth: AuthSettings | None = None, callback_settings: CallbackSettings | None = None,
        codebase: str = DEFAULT_CODEBASE, public_url: str = "http://127.0.0.1:8765",
    ) -> None:
        self.scale, self.seed, self.codebase, self.public_url = scale, seed, codebase, public_url
        self.faults = faults or FaultSettings()
        self.auth = auth or AuthSettings()
        self.callback_settings = callback_settings or CallbackSettings()
        self._initial = (copy.deepcopy(self.faults), copy.deepcopy(self.auth),
                         copy.deepcopy(self.callback_settings))
        self.api_member_identifier = API_MEMBER_IDENTIFIER
        keys = random.Random(f"{seed}:signing-key")
        self.signing_key = f"{keys.getrandbits(256):064x}"
        self.signing_key_id = str(uuid.UUID(int=keys.getrandbits(128), version=4))
        self.stats = Stats()
        self.fault_rng = random.Random(self.faults.seed)
        self.throttle = Throttle()
        self.store = build_store(scale, seed)
        self.dispatcher = Dispatcher(self)
        self.writer = Writer(self)
        self.mutation_threads: list[threading.Thread] = []
        self.generation = 0  # bumped by reset(); background work of an older one stops

    def key_url(self) -> str:
        """Return the signing-key URL put in deliveries (real form: ``v2025_1//system/...``)."""
        return (f"{self.public_url}/{self.codebase}/system/callbackkey/index.rails"
                f"?companyName={self.auth.company_id}&id={self.signing_key_id}")

    def reseed_faults(self) -> None:
        """Restart the fault RNG from the configured seed."""
        self.fault_rng = random.Random(self.faults.seed)

    def disable_callback(self, entry_id: int) -> None:
        """Mark a failing callback entry inactive (stand-in for CW's 3 days of failures)."""
        scope = Scope(REGISTRY["system/callbacks"])
        # The entry may have been deleted meanwhile; then there is nothing to disable.
        with contextlib.suppress(ApiError):
            self.writer.set_fields(scope, entry_id, {"inactiveFlag": True}, "system")

    def mutations_idle(self) -> bool:
        """Return True when no background mutation is still running."""
        self.mutation_threads = [t for t in self.mutation_threads if t.is_alive()]
        return not self.mutation_threads

    def reset(self) -> None:
        """Regenerate data from the seed; restore start-up faults, auth and callback settings."""
        self.generation += 1
        self.dispatcher.close()
        faults, auth, callback_settings = self._initial
        self.faults = copy.deepcopy(faults)
        self.auth = copy.deepcopy(auth)
        self.callback_settings = copy.deepcopy(callback_settings)
        self.reseed_faults()
        self.throttle.clear()
        self.stats.reset()
        self.store = build_store(self.scale, self.seed)
        self.dispatcher = Dispatcher(self)

    def close(self) -> None:
        """Stop background delivery."""
        self.dispatcher.close()
