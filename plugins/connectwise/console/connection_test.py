"""Make the connection form's Test button work for a ``connectwise`` connection without a port.

Airflow 3.3.2's Test button sends the connection as the list shows it, with ``port: 0`` when
none is stored, and the API refuses to test a stored connection whose port differs from the
one sent ("The host or port to test differs from the stored connection"): an operator who
leaves Port empty gets only "Bad Request". Airflow fixed it upstream (apache/airflow#73298:
port 0 means no port); this root middleware does the same for ``connectwise`` connections only,
by leaving out a ``port`` of 0 from the test request, so the stored (empty) port is used.
Nothing else is touched; Airflow still authenticates and authorizes the request itself.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TEST_PATH = "/api/v2/connections/test"
CONN_TYPE = "connectwise"
MAX_BODY_BYTES = 1_000_000  # a connection is a few kB; larger bodies pass through untouched


class EmptyPortOnTest:
    """ASGI middleware: ``POST /api/v2/connections/test`` of a connectwise connection, port 0."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != TEST_PATH:
            await self.app(scope, receive, send)
            return
        body, complete = await _read(receive)
        if complete:
            body = without_empty_port(body)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": not complete}

        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        if complete:
            headers.append((b"content-length", str(len(body)).encode()))
        await self.app({**scope, "headers": headers}, replay, send)


def without_empty_port(body: bytes) -> bytes:
    """Return ``body`` without ``"port": 0`` when it tests a connectwise connection."""
    try:
        document: Any = json.loads(body)
    except ValueError:
        return body  # Airflow answers malformed JSON itself
    if (
        not isinstance(document, dict)
        or document.get("conn_type") != CONN_TYPE
        or document.get("port") != 0
        or isinstance(document.get("port"), bool)
    ):
        return body
    del document["port"]
    return json.dumps(document).encode()


async def _read(receive: Receive) -> tuple[bytes, bool]:
    # The whole body, unless it grows past the limit (then what was read, and "incomplete").
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > MAX_BODY_BYTES:
            return b"".join(chunks), False
