"""Helpers for callback tests: a receiver on a real port, signed deliveries, inbox reads."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import requests
import sqlalchemy as sa
import uvicorn
from connectwise.callbacks.__main__ import MOUNT_PATH
from connectwise.callbacks.config import ConfigSource
from connectwise.callbacks.receiver import create_app
from connectwise.callbacks.wake import Waker
from fastapi import FastAPI

from simulator.testing import free_port


class CountingWaker(Waker):
    """A waker that only counts (the DAG is not running in these tests)."""

    description = "counting"

    def __init__(self) -> None:
        super().__init__()
        self.notified = 0
        self.tenants: list[str | None] = []
        self._count_lock = threading.Lock()

    def notify(self, tenant: str | None = None) -> None:
        # The receiver accepts deliveries on several threadpool threads at once.
        with self._count_lock:
            self.notified += 1
            self.tenants.append(tenant)


@contextlib.contextmanager
def running_receiver(**app_options: Any) -> Iterator[Any]:
    """Serve the receiver at ``http://127.0.0.1:<port>/connectwise`` in a thread."""
    waker = CountingWaker()
    root = FastAPI()
    root.mount(MOUNT_PATH, create_app(ConfigSource(refresh_seconds=0), waker, **app_options))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(root, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "receiver did not start"
        time.sleep(0.01)
    server.base_url = f"http://127.0.0.1:{port}{MOUNT_PATH}"
    server.waker = waker
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def sign(body: bytes, signing_key: str) -> str:
    """Independent of the code under test: base64(HMAC-SHA256(SHA256(key), body))."""
    key = hashlib.sha256(signing_key.encode()).digest()
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


def delivery(
    sim: Any,
    callback_type: str,
    action: str,
    record: dict[str, Any] | None,
    record_id: int | None = None,
    *,
    key_url: str | None = None,
) -> bytes:
    """A delivery body shaped like ConnectWise's (API facts §9)."""
    return json.dumps(
        {
            "Action": action,
            "CallbackObjectRecId": 1,
            "CompanyId": sim.company_id,
            "Entity": json.dumps(record) if record is not None else None,
            "FromUrl": sim.host,
            "ID": record_id if record_id is not None else record["id"],
            "MemberId": "test",
            "MessageId": str(uuid.uuid4()),
            "Metadata": {"key_url": key_url or sim.sim.key_url()},
            "Type": callback_type,
        }
    ).encode()


def post_signed(url: str, sim: Any, body: bytes, key: str | None = None) -> requests.Response:
    """POST ``body`` to the receiver, signed with the simulator's key (or ``key``)."""
    signature = sign(body, key or sim.sim.signing_key)
    return requests.post(url, data=body, headers={"x-content-signature": signature}, timeout=10)


def inbox_rows(engine: sa.Engine) -> list[dict[str, Any]]:
    """Every inbox row, oldest first."""
    with engine.connect() as connection:
        return [
            dict(row)
            for row in connection.execute(
                sa.text("SELECT * FROM meta_callback_inbox ORDER BY id")
            ).mappings()
        ]


def wait_for(
    predicate: Callable[[], Any],
    timeout: float = 30.0,
    what: str = "condition",
    seen: Callable[[], Any] | None = None,
) -> Any:
    """Poll until ``predicate()`` is truthy and return its value.

    The deadline only decides when to give up: the predicate is checked once more at the
    deadline, and the failure names ``what`` and shows ``seen()`` (what there was instead).
    """
    deadline = time.monotonic() + timeout
    while True:
        last_check = time.monotonic() >= deadline
        result = predicate()
        if result:
            return result
        if last_check:
            break
        time.sleep(0.05)
    observed = seen() if seen is not None else result
    raise AssertionError(f"{what}: not met within {timeout:g} s; seen: {observed!r}")
