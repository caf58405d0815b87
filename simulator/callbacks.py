"""Callback entries (``system/callbacks``): validation and signed, retried deliveries.

Delivery follows facts §9: a JSON POST whose ``Entity`` is the record's GET shape as a JSON
string (``null`` on delete), signed with ``x-content-signature`` =
base64(HMAC-SHA256(SHA256(utf8(signing_key)), raw body)). Retries on 404/409/419/429, timeouts
and connection errors, two of them, 2 s and 4 s apart, each attempt with a 5 s timeout. We
also retry 5xx (not listed by the facts: UNCONFIRMED); other answers fail at once. After
``disable_after_failures`` consecutive failed deliveries the entry gets ``inactiveFlag: true``,
a stand-in for the real "3 consecutive days".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from simulator.store import Store, encode

if TYPE_CHECKING:
    from simulator.core import Simulator
    from simulator.resources import Resource
    from simulator.validation import Problems

Record = dict[str, Any]
RETRY_STATUSES = frozenset({404, 409, 419, 429})
RETRY_DELAYS = (2.0, 4.0)
ATTEMPT_TIMEOUT = 5.0
# Levels per type. Activity, agreement and company come from the resolutionflow callback page
# and ticket from NANGO (facts §9); the rest (UNCONFIRMED) are "owner" plus the type itself
# plus the references that the record carries.
LEVELS: dict[str, tuple[str, ...]] = {
    "activity": ("owner", "status", "type", "company", "activity"),
    "agreement": ("owner", "type", "company", "agreement"),
    "company": ("owner", "status", "type", "territory", "company", "integratortag"),
    "contact": ("owner", "company", "type", "contact"),
    "opportunity": ("owner", "status", "type", "company", "opportunity"),
    "productcatalog": ("owner", "category", "subcategory", "type", "productcatalog"),
    "member": ("owner", "member"),
    "ticket": ("owner", "board", "status", "all", "ticket"),
    "project": ("owner", "board", "status", "project"),
    "configuration": ("owner", "type", "company", "configuration"),
    "expense": ("owner", "expense"),
    "invoice": ("owner", "invoice"),
    "purchaseorder": ("owner", "purchaseorder"),
    "schedule": ("owner", "schedule"),
    "time": ("owner", "time"),
}
_LEVEL_PATH = {"company": "company", "status": "status", "type": "type",
               "territory": "territory", "board": "board", "category": "category",
               "subcategory": "subcategory"}


def validate_entry(store: Store, record: Record, problems: Problems) -> None:
    """Check url, type, level and duplicates; owner level forces objectId 1 (facts §9)."""
    parts = urlsplit(record.get("url") or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.add("InvalidField", "Invalid URL", "url")
    kind = str(record.get("type") or "").lower()
    level = str(record.get("level") or "").lower()
    if kind not in LEVELS:
        problems.add("InvalidField", f"Unrecognized type; use one of: {', '.join(LEVELS)}",
                     "type")
    elif level not in LEVELS[kind]:
        problems.add("InvalidObject", "Unrecognized level for type, see documentation for "
                     "supported levels for each type", "level")
    record["type"], record["level"] = kind or record.get("type"), level or record.get("level")
    if level == "owner" or level == "all":
        record["objectId"] = 1
    elif not isinstance(record.get("objectId"), int) or record["objectId"] < 1:
        problems.add("InvalidField", "objectId must be the id of the subscribed record.",
                     "objectId")
    for other in store["system/callbacks"]:
        if other["id"] != record.get("id") and all(
            str(other[f]).lower() == str(record.get(f)).lower()
            for f in ("url", "type", "level", "objectId")
        ):
            problems.add("ObjectExists", "A matching callback entry already exists", "objectId")
            break


def _matches(entry: Record, record: Record) -> bool:
    level = entry["level"]
    if level in ("owner", "all"):
        return True
    if level == entry["type"]:
        return record.get("id") == entry["objectId"]
    field = _LEVEL_PATH.get(level)
    value = record.get(field) if field else None
    if entry["type"] == "company" and level == "type":
        value = record.get("types")
    if entry["type"] == "company" and level == "company":
        return record.get("id") == entry["objectId"]
    refs = value if isinstance(value, list) else [value]
    return any(isinstance(r, dict) and r.get("id") == entry["objectId"] for r in refs)


def sign(body: bytes, signing_key: str) -> str:
    """Return the ``x-content-signature`` of a body (facts §9: note the SHA-256 of the key)."""
    key = hashlib.sha256(signing_key.encode()).digest()
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


class Dispatcher:
    """Queues deliveries per (entry, record) so each record's messages arrive in order."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="cw-callback")
        self.client = httpx.Client(timeout=ATTEMPT_TIMEOUT)
        self._lock = threading.Lock()
        self._queues: dict[tuple[int, int], deque[tuple[str, bytes]]] = {}
        self._failures: dict[int, int] = {}
        self._closed = False

    def close(self) -> None:
        """Stop delivering; queued messages are dropped."""
        self._closed = True
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()

    def pending(self) -> int:
        """Return how many delivery queues are still active."""
        with self._lock:
            return len(self._queues)

    def notify(self, resource: Resource, action: str, record: Record, actor: str) -> None:
        """Queue a delivery to every active entry subscribed to this change (never blocks)."""
        if resource.callback_type is None or self._closed:
            return
        entries = [
            e for e in self.sim.store["system/callbacks"]
            if e["type"] == resource.callback_type and not e["inactiveFlag"]
            and not (e["isSelfSuppressedFlag"] and actor == self.sim.api_member_identifier)
            and _matches(e, record)
        ]
        if not entries:
            return
        entity = None if action == "deleted" else encode(record).decode()
        for entry in entries:
            self._enqueue((entry["id"], record["id"]),
                          self._payload(entry, action, record, entity, actor))

    def _payload(self, entry: Record, action: str, record: Record, entity: str | None,
                 actor: str) -> tuple[str, bytes]:
        sim = self.sim
        url = entry["url"] + (str(record["id"]) if entry["url"].endswith("=") else "")
        body = {
            "Action": action, "CallbackObjectRecId": entry["id"],
            "CompanyId": sim.auth.company_id, "Entity": entity,
            "FromUrl": urlsplit(sim.public_url).netloc, "ID": record["id"], "MemberId": actor,
            "MessageId": str(uuid.uuid4()), "Metadata": {"key_url": sim.key_url()},
            "Type": entry["type"],
        }
        return url, json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()

    def _enqueue(self, key: tuple[int, int], message: tuple[str, bytes]) -> None:
        with self._lock:
            queue = self._queues.get(key)
            if queue is not None:
                queue.append(message)
                return
            self._queues[key] = deque([message])
        self.pool.submit(self._drain, key)

    def _drain(self, key: tuple[int, int]) -> None:
        while not self._closed:
            with self._lock:
                queue = self._queues[key]
                if not queue:
                    del self._queues[key]
                    return
                url, body = queue.popleft()
            self._deliver(key[0], url, body)

    def _attempt(self, url: str, body: bytes) -> bool | None:
        """POST once: True delivered, None retryable failure, False final failure."""
        headers = {"Content-Type": "application/json",
                   "x-content-signature": sign(body, self.sim.signing_key)}
        self.sim.stats.add_callback("attempts")
        try:
            status = self.client.post(url, content=body, headers=headers).status_code
        except (httpx.HTTPError, RuntimeError):  # RuntimeError: client closed by a reset
            return None
        if 200 <= status < 300:
            return True
        return None if status in RETRY_STATUSES or status >= 500 else False

    def _deliver(self, entry_id: int, url: str, body: bytes) -> None:
        outcome = self._attempt(url, body)
        for delay in RETRY_DELAYS:
            if outcome is not None or self._closed:
                break
            time.sleep(delay * self.sim.callback_settings.retry_delay_scale)
            outcome = self._attempt(url, body)
        if self._closed:
            return  # the simulator was reset: this delivery belongs to the old tenant
        with self._lock:
            failures = 0 if outcome else self._failures.get(entry_id, 0) + 1
            self._failures[entry_id] = failures
        self.sim.stats.add_callback("delivered" if outcome else "failed")
        if failures >= self.sim.callback_settings.disable_after_failures:
            self.sim.disable_callback(entry_id)
