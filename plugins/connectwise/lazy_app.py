"""An ASGI app built on its first request, so an Airflow plugin file stays cheap to import.

Airflow imports every plugin file in every process that loads plugins, and each task process
does (for listeners) before it runs: a plugin that builds its FastAPI app at import makes every
task import FastAPI's routing, Airflow's API server and the app's templates first. Measured on
the Celery cluster, that was 40% of a worker's CPU for an initial sync. Only the api-server ever
serves the app, so the plugin hands Airflow a :class:`LazyApp` and the api-server builds the
real one when the first request arrives.

    fastapi_apps = [{"app": LazyApp(build_console), "url_prefix": "/connectwise-console", ...}]
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class LazyApp:
    """An ASGI app that calls ``build`` once, on the first request, and serves what it made."""

    def __init__(self, build: Callable[[], AsgiApp]) -> None:
        self._build = build
        self._app: AsgiApp | None = None
        self._lock = threading.Lock()

    @property
    def app(self) -> AsgiApp:
        """The built app (built now if no request came yet)."""
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = self._build()
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve ``scope`` with the built app."""
        await self.app(scope, receive, send)
