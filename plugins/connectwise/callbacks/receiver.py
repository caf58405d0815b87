"""The callback receiver: verify a delivery, commit it to the inbox, then answer.

ConnectWise gives a delivery 5 s and retries it only twice, so the receiver does the least
that makes a delivery safe (check, verify, one INSERT) and answers; applying it is the
``connectwise_callbacks`` DAG's job. The same app is mounted in the Airflow api-server (a
plugin, at ``/connectwise``) and served on its own by ``python -m connectwise.callbacks``.

Answers: 200 accepted (or already accepted, or a type we do not sync); 400 malformed; 401 no
signature; 403 bad signature or a key URL off the configured host; 404 wrong path token;
413 body too large; 503 with ``Retry-After`` when not configured, the signing key is
unavailable or staging is down; 500, generic, for anything unexpected. Refusals are counted
per reason (``GET /health``). Airflow does not authenticate plugin endpoints: these checks are
the only gate. The path token never reaches a log (``masking.py``).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from connectwise.callbacks import inbox
from connectwise.callbacks.config import ConfigSource, ReceiverConfig
from connectwise.callbacks.masking import (
    SCOPE_ENTRY,
    HideTokenFromAccessLogs,
    LogRedactor,
    install_log_redaction,
)
from connectwise.callbacks.signature import (
    KeyUnavailable,
    KeyUrlRefused,
    SigningKeys,
    signature_matches,
)
from connectwise.callbacks.wake import Waker
from connectwise.entities import REGISTRY, Registry
from connectwise.errors import ConnectWiseError

if TYPE_CHECKING:
    from connectwise.client.site import ConnectWiseSite

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024  # real deliveries are a few kB: one record as JSON
SIGNATURE_HEADER = "x-content-signature"
RETRY_AFTER_SECONDS = 30
# The staging database is down or unreachable: connection refused, terminated, pool timeout.
STAGING_OUTAGE = (
    sqlalchemy.exc.DBAPIError,
    sqlalchemy.exc.TimeoutError,
    sqlalchemy.exc.DisconnectionError,
    OSError,
)


class Refused(Exception):
    """A delivery the receiver turns away: status, a counter name and a short public reason."""

    def __init__(self, status: int, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.kind = kind
        self.reason = reason

    @property
    def headers(self) -> dict[str, str]:
        """``Retry-After`` on a 503: the delivery is fine, the receiver cannot take it now."""
        return {"Retry-After": str(RETRY_AFTER_SECONDS)} if self.status == 503 else {}


class RefusalCounts:
    """Refused deliveries per reason since the receiver started (thread-safe)."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, kind: str) -> int:
        """Count one refusal; return the count for ``kind`` so far."""
        with self._lock:
            self._counts[kind] += 1
            return self._counts[kind]

    def snapshot(self) -> dict[str, int]:
        """Return the counts, by reason."""
        with self._lock:
            return dict(self._counts)


@dataclass
class Receiver:
    """The checks and the inbox write, independent of the web framework."""

    config: ConfigSource
    waker: Waker
    keys: SigningKeys
    registry: Registry = REGISTRY
    redactor: LogRedactor | None = None
    refusals: RefusalCounts = field(default_factory=RefusalCounts)

    def accept(self, token: str, body: bytes, signature: str | None) -> dict[str, Any]:
        """Verify and store one delivery; return the answer's body.

        Raises:
            Refused: the delivery is not accepted; nothing was stored.
        """
        config = self._config(token)
        try:
            delivery = inbox.Delivery.parse(body)
        except inbox.MalformedDelivery as exc:
            raise Refused(400, "malformed", str(exc)) from None
        if not signature:
            raise Refused(401, "unsigned", f"missing {SIGNATURE_HEADER} header")
        self._verify(delivery, body, signature, config.site)  # the key from this tenant's host
        try:
            status = inbox.accept(config.engine, delivery, body, self.registry)
        except STAGING_OUTAGE as exc:
            raise _staging_down(exc) from None
        if status == "ignored":
            return {"status": status, "reason": f"type {delivery.callback_type!r} is not synced"}
        if status == "accepted":
            self.waker.notify(config.tenant)
        return {"status": status}

    def _config(self, token: str) -> ReceiverConfig:
        """Return the tenant the path token belongs to.

        Raises:
            Refused: 404 for a token of no tenant; 503 while the configuration (or the tenant
                the token may belong to) cannot be read.
        """
        try:
            configs = self.config.get()
        except ConnectWiseError as exc:
            log.error("Callback receiver is not configured: %s", exc)
            raise Refused(503, "not_configured", "receiver not configured") from None
        except STAGING_OUTAGE as exc:  # the first read migrates the staging schema
            raise _staging_down(exc) from None
        if self.redactor is not None:
            for each in configs.tenants:  # from now on masked in every log line
                self.redactor.add_token(each.token)
        config = configs.for_token(token)
        if config is not None:
            return config
        if configs.unreadable:  # it may be theirs: ConnectWise retries a 503
            raise Refused(503, "not_configured", "receiver not configured")
        raise Refused(404, "wrong_token", "unknown callback path")

    def _verify(
        self, delivery: inbox.Delivery, body: bytes, signature: str, site: ConnectWiseSite
    ) -> None:
        try:
            key = self.keys.key_for(delivery.key_url, site)
            if signature_matches(body, signature, key):
                return
            # ConnectWise may have rotated the key behind this URL: ask again (the key cache
            # does so at most once a minute per key, however many forgeries arrive).
            key = self.keys.key_for(delivery.key_url, site, refresh=True)
        except KeyUrlRefused as exc:
            raise Refused(403, "key_url_refused", str(exc)) from None
        except KeyUnavailable as exc:
            log.warning("Callback signing key unavailable: %s", exc)
            raise Refused(503, "key_unavailable", "signing key unavailable") from None
        if not signature_matches(body, signature, key):
            raise Refused(403, "bad_signature", "signature does not match")


def _staging_down(exc: BaseException) -> Refused:
    # The type only: a DBAPI message can quote the statement and its parameters (the body).
    log.error("Callback receiver cannot use the staging database: %s", type(exc).__name__)
    return Refused(503, "staging_unavailable", "staging database unavailable")


def create_app(
    config: ConfigSource | None = None,
    waker: Waker | None = None,
    *,
    keys: SigningKeys | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """Build the receiver app (routes ``POST /callbacks/{token}`` and ``GET /health``).

    Also installs the process-wide log redaction (``masking.install_log_redaction``).
    """
    receiver = Receiver(
        config or ConfigSource(),
        waker or Waker(),
        keys if keys is not None else SigningKeys(),  # an empty cache is falsy
        redactor=install_log_redaction(),
    )
    app = FastAPI(
        title="ConnectWise callback receiver", docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.receiver = receiver
    app.add_middleware(HideTokenFromAccessLogs)
    _add_routes(app, receiver, max_body_bytes)
    return app


def _add_routes(app: FastAPI, receiver: Receiver, max_body_bytes: int) -> None:
    @app.get("/health")
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "wake": receiver.waker.description,
            "refused": receiver.refusals.snapshot(),
        }

    # The path only ever shows the masked token; the middleware hands over the real one.
    @app.post("/callbacks/{masked_token}")
    async def receive(request: Request) -> JSONResponse:
        try:
            body = await _read_limited(request, max_body_bytes)
            answer = await run_in_threadpool(
                receiver.accept,
                request.scope.get(SCOPE_ENTRY, ""),
                body,
                request.headers.get(SIGNATURE_HEADER),
            )
        except Refused as exc:
            return _refusal(receiver.refusals, request, exc)
        except Exception:
            # Our own answer, so nothing of the failure (or the path) reaches the client;
            # the traceback is logged, masked by the log redaction.
            log.exception("Callback receiver failed unexpectedly")
            failure = Refused(500, "internal_error", "internal error")
            return _refusal(receiver.refusals, request, failure)
        return JSONResponse(answer, status_code=200)


def _refusal(counts: RefusalCounts, request: Request, exc: Refused) -> JSONResponse:
    count = counts.add(exc.kind)
    client = request.client.host if request.client else "?"
    log.warning(
        "Refused a callback from %s: %d %s (%s: %d since start)",
        client,
        exc.status,
        exc.reason,
        exc.kind,
        count,
    )
    return JSONResponse({"error": exc.reason}, status_code=exc.status, headers=exc.headers)


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Refused(413, "too_large", f"body larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, "too_large", f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
