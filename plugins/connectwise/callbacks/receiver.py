"""The callback receiver: verify a delivery, commit it to the inbox, then answer.

ConnectWise gives a delivery 5 s and retries it only twice, so the receiver does the least
that makes a delivery safe (check, verify, one INSERT) and answers; applying it is the
``connectwise_callbacks`` DAG's job. The same app is mounted in the Airflow api-server (a
plugin, at ``/connectwise``) and served on its own by ``python -m connectwise.callbacks``.

Answers: 200 accepted (or already accepted, or a type we do not sync); 400 malformed; 401 no
signature; 403 bad signature or a key URL off the configured host; 404 wrong path token;
413 body too large; 503 not configured or signing key unavailable (ConnectWise retries).
Airflow does not authenticate plugin endpoints: these checks are the only gate.
"""

from __future__ import annotations

import hmac
import logging
import re
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from connectwise.callbacks import inbox
from connectwise.callbacks.config import ConfigSource, ReceiverConfig
from connectwise.callbacks.signature import (
    KeyUnavailable,
    KeyUrlRefused,
    SigningKeys,
    signature_matches,
)
from connectwise.callbacks.wake import Waker
from connectwise.entities import REGISTRY, Registry
from connectwise.errors import ConnectWiseError

log = logging.getLogger(__name__)
_TOKEN_IN_PATH = re.compile(r"(/callbacks/)[^/?\s\"']+")
MAX_BODY_BYTES = 1024 * 1024  # real deliveries are a few kB: one record as JSON
SIGNATURE_HEADER = "x-content-signature"


class Refused(Exception):
    """A delivery the receiver turns away, with the status and a short public reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class Receiver:
    """The checks and the inbox write, independent of the web framework."""

    config: ConfigSource
    waker: Waker
    keys: SigningKeys
    registry: Registry = REGISTRY

    def accept(self, token: str, body: bytes, signature: str | None) -> dict[str, Any]:
        """Verify and store one delivery; return the answer's body.

        Raises:
            Refused: the delivery is not accepted; nothing was stored.
        """
        config = self._config()
        if not _same(token, config.token):
            raise Refused(404, "unknown callback path")
        try:
            delivery = inbox.Delivery.parse(body)
        except inbox.MalformedDelivery as exc:
            raise Refused(400, str(exc)) from None
        if not signature:
            raise Refused(401, f"missing {SIGNATURE_HEADER} header")
        self._verify(delivery, body, signature, config)
        status = inbox.accept(config.engine, delivery, body, self.registry)
        if status == "ignored":
            return {"status": status, "reason": f"type {delivery.callback_type!r} is not synced"}
        if status == "accepted":
            self.waker.notify()
        return {"status": status}

    def _config(self) -> ReceiverConfig:
        try:
            return self.config.get()
        except ConnectWiseError as exc:
            log.error("Callback receiver is not configured: %s", exc)
            raise Refused(503, "receiver not configured") from None

    def _verify(
        self, delivery: inbox.Delivery, body: bytes, signature: str, config: ReceiverConfig
    ) -> None:
        try:
            key = self.keys.key_for(delivery.key_url, config.site)
            if signature_matches(body, signature, key):
                return
            # ConnectWise may have rotated the key behind this URL: ask once more.
            key = self.keys.key_for(delivery.key_url, config.site, refresh=True)
        except KeyUrlRefused as exc:
            raise Refused(403, str(exc)) from None
        except KeyUnavailable as exc:
            log.warning("Callback signing key unavailable: %s", exc)
            raise Refused(503, "signing key unavailable") from None
        if not signature_matches(body, signature, key):
            raise Refused(403, "signature does not match")


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


class HideTokenFromAccessLogs:
    """ASGI middleware: mask the path token in the request scope as the response starts.

    Web servers log each request's path, and ours carries the secret. uvicorn logs when the
    response starts, Airflow's access-log middleware when the request is done; both read the
    scope, which Starlette passes down (and mounts update) as one shared dict.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:  # noqa: D102
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return

        async def send_masked(message: dict[str, Any]) -> None:
            if message.get("type") == "http.response.start":
                scope["path"] = redact(scope.get("path", ""))
                if isinstance(scope.get("raw_path"), bytes):
                    scope["raw_path"] = redact(scope["raw_path"].decode("latin-1")).encode()
            await send(message)

        await self.app(scope, receive, send_masked)


def redact(text: str) -> str:
    """Return ``text`` with any ``/callbacks/<token>`` path segment masked."""
    return _TOKEN_IN_PATH.sub(r"\1***", text)


def create_app(
    config: ConfigSource | None = None,
    waker: Waker | None = None,
    *,
    keys: SigningKeys | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """Build the receiver app (routes ``POST /callbacks/{token}`` and ``GET /health``)."""
    receiver = Receiver(config or ConfigSource(), waker or Waker(), keys or SigningKeys())
    app = FastAPI(
        title="ConnectWise callback receiver", docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.receiver = receiver
    app.add_middleware(HideTokenFromAccessLogs)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "wake": receiver.waker.description}

    @app.post("/callbacks/{token}")
    async def receive(token: str, request: Request) -> JSONResponse:
        try:
            body = await _read_limited(request, max_body_bytes)
            answer = await run_in_threadpool(
                receiver.accept, token, body, request.headers.get(SIGNATURE_HEADER)
            )
        except Refused as exc:
            client = request.client.host if request.client else "?"
            log.warning("Refused a callback from %s: %d %s", client, exc.status, exc.reason)
            return JSONResponse({"error": exc.reason}, status_code=exc.status)
        return JSONResponse(answer, status_code=200)

    return app


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Refused(413, f"body larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
