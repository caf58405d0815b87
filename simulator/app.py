"""The ASGI application: discovery, the ``apis/3.0`` tree with faults, and ``/_sim``.

A small hand-written dispatcher sits in front of FastAPI so that API responses can be cut
(truncated bodies) or abandoned (lost write responses) exactly as a flaky network would.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from simulator import api, documents, faults
from simulator.auth import credentials_key
from simulator.control import build_control_app
from simulator.errors import endpoint_missing
from simulator.store import encode

if TYPE_CHECKING:
    from simulator.core import Simulator

Scope = dict[str, Any]
CODEBASES = ("v2025_1", "v4_6_release")
JSON_TYPE = b"application/json; charset=utf-8"
_ABORT_MESSAGE = "ASGI callable returned without completing response."


class _DropIntentionalAborts(logging.Filter):
    """Hide uvicorn's error line for connections we abort on purpose (lost writes)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _ABORT_MESSAGE not in record.getMessage()


def _api_headers() -> list[tuple[bytes, bytes]]:
    return [
        (b"api-current-version", documents.API_VERSION.encode()),
        (b"x-server-name", b"sim-cw-api-01"),
        (b"x-cw-request-id", str(uuid.uuid4()).encode()),
    ]


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


class SimulatorApp:
    """ASGI entry point wrapping one Simulator."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.api = api.Api(sim)
        self.control = build_control_app(sim)
        logging.getLogger("uvicorn.error").addFilter(_DropIntentionalAborts())

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        """Route one ASGI event to the control app, discovery, signing keys or the API."""
        if scope["type"] != "http" or scope["path"].startswith("/_sim"):
            await self.control(scope, receive, send)
            return
        segments = [s for s in scope["path"].split("/") if s]
        lowered = [s.lower() for s in segments]
        if lowered[:2] == ["login", "companyinfo"] and len(segments) == 3:
            await self._company_info(send, segments[2])
        elif lowered[:1] and lowered[0] in CODEBASES and lowered[1:3] == ["apis", "3.0"]:
            await self._api(scope, receive, send, segments[3:])
        elif lowered[:1] and lowered[0] in CODEBASES and lowered[1:] == [
            "system", "callbackkey", "index.rails"
        ]:
            await self._signing_key(scope, send)
        else:
            error = endpoint_missing()
            await self._send(send, error.status, encode(error.body), [])

    async def _send(self, send: Any, status: int, body: bytes,
                    headers: list[tuple[bytes, bytes]], content_type: bytes = JSON_TYPE) -> None:
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", content_type), (b"content-length", str(len(body)).encode()),
            *headers]})
        await send({"type": "http.response.body", "body": body})

    async def _company_info(self, send: Any, company: str) -> None:
        # Unknown company → JSON null with 200 (DJCW: "CW returns None if company ID is unknown").
        known = company.lower() == self.sim.auth.company_id.lower()
        value = (documents.company_info(self.sim.auth.company_id, self.sim.codebase)
                 if known else None)
        self.sim.stats.add_request("GET login/companyinfo/{id}", 200)
        await self._send(send, 200, encode(value), [])

    async def _signing_key(self, scope: Scope, send: Any) -> None:
        params = dict(parse_qsl(scope.get("query_string", b"").decode()))
        if params.get("id") != self.sim.signing_key_id:
            error = endpoint_missing()
            await self._send(send, 404, encode(error.body), [])
            return
        await self._send(send, 200, encode({"signing_key": self.sim.signing_key}), [])

    def _request(self, scope: Scope, body: bytes, segments: list[str]) -> api.ApiRequest:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        raw_query = scope.get("query_string", b"").decode("latin-1")
        host = headers.get("host", "127.0.0.1")
        path = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        return api.ApiRequest(
            method=scope["method"], segments=segments,
            params=dict(parse_qsl(raw_query, keep_blank_values=True)), raw_query=raw_query,
            headers=headers, body=body,
            base_url=f"{scope.get('scheme', 'http')}://{host}{path}",
        )

    async def _api(self, scope: Scope, receive: Any, send: Any, segments: list[str]) -> None:
        sim = self.sim
        request = self._request(scope, await _read_body(receive), segments)
        endpoint = f"{request.method} {api.endpoint_template(segments)}"
        settings = sim.faults
        if settings.latency_ms:
            await asyncio.sleep(settings.latency_ms / 1000)
        response = await self._faulty_answer(request)
        if response is None:
            response = self.api.handle(request)
            is_page = request.method == "GET" and response.status == 200
            if is_page and faults.roll(sim, settings.truncate_rate):
                sim.stats.add_fault("truncated")
                response.body = faults.truncate(sim, response.body)
            elif response.status < 300 and faults.take_write_error(
                sim, request.method, applied=True
            ):
                status, headers, body = faults.error_answer(settings.write_error_status)
                response = api.ApiResponse(status, body, headers)
            elif (request.method in faults.LOST_WRITE_METHODS and response.status < 300
                  and settings.lost_write_responses > 0):
                settings.lost_write_responses -= 1
                sim.stats.add_fault("lost_write")
                sim.stats.add_request(endpoint, response.status)
                length = str(len(response.body) + 1).encode()
                await send({"type": "http.response.start", "status": response.status,
                            "headers": [(b"content-length", length)]})
                return  # uvicorn closes the connection: the client never gets the answer
        sim.stats.add_request(endpoint, response.status)
        headers = [(k.encode(), v.encode()) for k, v in response.headers.items()
                   if k.lower() != "content-type"]
        content_type = response.headers.get("Content-Type", "application/json; charset=utf-8")
        await self._send(send, response.status, response.body, [*_api_headers(), *headers],
                         content_type.encode())

    async def _faulty_answer(self, request: api.ApiRequest) -> api.ApiResponse | None:
        sim, settings = self.sim, self.sim.faults
        if settings.throttle_per_minute and sim.throttle.over_limit(
            credentials_key(request.headers), settings.throttle_per_minute,
            settings.throttle_window_seconds,
        ):
            status, headers, body = faults.throttled_response(settings.retry_after_seconds)
            return api.ApiResponse(status, body, headers)
        if faults.roll(sim, settings.hang_rate):
            sim.stats.add_fault("hang")
            await asyncio.sleep(settings.hang_seconds)
        if faults.roll(sim, settings.error_rate):
            sim.stats.add_fault("5xx")
            status, headers, body = faults.server_error(sim)
            return api.ApiResponse(status, body, headers)
        if faults.take_write_error(sim, request.method, applied=False):
            status, headers, body = faults.error_answer(settings.write_error_status)
            return api.ApiResponse(status, body, headers)
        return None
