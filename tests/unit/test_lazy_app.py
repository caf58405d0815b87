"""Plugin apps are built on their first request, and importing a plugin file builds nothing.

Every Airflow task process imports the plugin files before it runs (for listeners); the
console and the receiver must not make each task import FastAPI's routing and Airflow's API
server. The api-server builds them when they are first asked for.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from connectwise.lazy_app import LazyApp

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("connectwise.console.app", "connectwise.callbacks.receiver", "airflow.api_fastapi.app")


class Answer:
    """A tiny ASGI app answering 200 with its label."""

    def __init__(self, label: str) -> None:
        self.label = label

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": self.label.encode()})


def request(app: LazyApp) -> bytes:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app({"type": "http", "path": "/"}, receive, send))
    return b"".join(message.get("body", b"") for message in sent)


def test_the_app_is_built_on_the_first_request_and_only_once() -> None:
    built: list[Answer] = []

    def build() -> Answer:
        built.append(Answer(f"app {len(built) + 1}"))
        return built[-1]

    app = LazyApp(build)
    assert built == []  # constructing it builds nothing
    assert request(app) == b"app 1"
    assert request(app) == b"app 1"
    assert len(built) == 1


def test_a_failed_build_is_tried_again_on_the_next_request() -> None:
    attempts: list[int] = []

    def build() -> Answer:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("mapping file unreadable")
        return Answer("ok")

    app = LazyApp(build)
    try:
        request(app)
    except RuntimeError as exc:
        assert "mapping file unreadable" in str(exc)
    else:
        raise AssertionError("the first build's error was swallowed")
    assert request(app) == b"ok"


def test_importing_the_plugin_files_imports_neither_app() -> None:
    # A fresh interpreter, as a task process starts: load each plugin file as Airflow does.
    script = (
        "import importlib.util, json, sys\n"
        f"for name in ('connectwise_console', 'connectwise_receiver'):\n"
        f"    path = {str(ROOT / 'plugins')!r} + '/' + name + '.py'\n"
        "    spec = importlib.util.spec_from_file_location(name, path)\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        f"print(json.dumps([name for name in {HEAVY!r} if name in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "plugins"), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert json.loads(result.stdout.splitlines()[-1]) == []
