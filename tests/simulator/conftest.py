"""Fixtures for the simulator's own tests: one in-process simulator, real HTTP via requests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from simulator.testing import SimulatorHandle, running_simulator


class Api:
    """A tiny ConnectWise client for tests: Basic auth + clientId on a requests session."""

    def __init__(self, sim: SimulatorHandle) -> None:
        self.sim = sim
        self.session = requests.Session()
        self.session.auth = (f"{sim.company_id}+{sim.public_key}", sim.private_key)
        self.session.headers["clientId"] = sim.client_id or ""

    def url(self, path: str) -> str:
        return f"{self.sim.api_url}/{path.lstrip('/')}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.url(path), **kwargs)

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.request("GET", path, params=params)

    def rows(self, path: str, **params: Any) -> list[dict[str, Any]]:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: Any) -> requests.Response:
        return self.request("POST", path, json=body)

    def put(self, path: str, body: Any) -> requests.Response:
        return self.request("PUT", path, json=body)

    def patch(self, path: str, body: Any) -> requests.Response:
        return self.request("PATCH", path, json=body)

    def delete(self, path: str) -> requests.Response:
        return self.request("DELETE", path)


@pytest.fixture(scope="session")
def sim_server() -> Iterator[SimulatorHandle]:
    # Callback retries are scaled down a hundredfold so retry tests take milliseconds.
    with running_simulator("small", seed=1, retry_delay_scale=0.01) as handle:
        yield handle


@pytest.fixture
def sim(sim_server: SimulatorHandle) -> SimulatorHandle:
    """The shared simulator, reset to its seeded state before the test."""
    sim_server.reset()
    return sim_server


@pytest.fixture
def api(sim: SimulatorHandle) -> Api:
    return Api(sim)


class Receiver:
    """A real local HTTP server recording callback deliveries."""

    def __init__(self) -> None:
        self.deliveries: list[dict[str, Any]] = []
        self.statuses: list[int] = []  # answers to give, in order; then 200
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.deliveries.append(
                        {
                            "path": self.path,
                            "headers": dict(self.headers),
                            "raw": raw,
                            "json": json.loads(raw),
                        }
                    )
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()
