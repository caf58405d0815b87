"""The console's FastAPI app, mounted in Airflow's api-server at ``/connectwise-console``.

Pages are rendered on the server (Jinja2, autoescaped) from the staging database the syncs
write; the only script is the Re-process button's call to Airflow's own REST API, made by the
browser with the user's session, so Airflow authorizes the trigger itself.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from connectwise.console import docs, views
from connectwise.console.auth import ConsoleUser, console_user, login_url, may
from connectwise.issues import REPROCESS_DAG_ID
from connectwise.staging.database import STAGING_CONN_ID, staging_url
from connectwise.staging.migrations import MigratedEngines

HERE = Path(__file__).resolve().parent
URL_PREFIX = "/connectwise-console"
REFRESH_SECONDS = 60.0
# Airflow answers a forged or foreign session cookie with 403 and this detail.
INVALID_SESSION = "Invalid JWT token"


class StagingEngine:
    """The staging database of the connection the DAGs use, re-read at most once a minute."""

    def __init__(
        self, conn_id: str = STAGING_CONN_ID, refresh_seconds: float = REFRESH_SECONDS
    ) -> None:
        self.conn_id = conn_id
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._engines = MigratedEngines()
        self._current: Engine | None = None
        self._read_at = 0.0

    def get(self) -> Engine:
        """Return the engine (the schema is migrated once per database)."""
        with self._lock:
            now = time.monotonic()
            if self._current is None or now - self._read_at >= self.refresh_seconds:
                self._current = self._engines.get(staging_url(self.conn_id))
                self._read_at = now
            return self._current


def create_app(staging: StagingEngine | None = None) -> FastAPI:
    """Build the console app (``staging`` defaults to the ``connectwise_staging`` connection)."""
    staging = staging or StagingEngine()
    # Every route needs a logged-in user with read access; only /static (CSS, script, icon) is open.
    app = FastAPI(
        title="ConnectWise console",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(console_user)],
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _add_pages(app, staging, _templates())
    _add_api(app, staging)
    _add_error_pages(app)
    return app


def _templates() -> Environment:
    templates = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates.globals.update(prefix=URL_PREFIX, **views.FILTERS)
    templates.filters["doc_links"] = docs.doc_links
    return templates


def _add_pages(app: FastAPI, staging: StagingEngine, templates: Environment) -> None:
    def page(name: str, **values: Any) -> HTMLResponse:
        return HTMLResponse(templates.get_template(name).render(**values))

    @app.get("/", response_class=HTMLResponse)
    def overview() -> HTMLResponse:
        health = views.collect_health(staging.get())
        return page("overview.html", health=health, active="overview")

    @app.get("/issues", response_class=HTMLResponse)
    def issues(user: ConsoleUser) -> HTMLResponse:
        found = views.collect_issues(staging.get())
        return page(
            "issues.html",
            issues=found,
            active="issues",
            can_reprocess=may(user, "POST", REPROCESS_DAG_ID),
            reprocess_dag=REPROCESS_DAG_ID,
        )

    @app.get("/docs/", response_class=HTMLResponse)
    def docs_index() -> HTMLResponse:
        return page("doc.html", title="Guides", body=docs.index_html(), active="docs")

    @app.get("/docs/img/{name}")
    def doc_image(name: str) -> Response:
        return docs.image(name)

    @app.get("/docs/{name}", response_class=HTMLResponse)
    def doc(name: str) -> HTMLResponse:
        title, body = docs.render(name)
        return page("doc.html", title=title, body=body, active="docs")


def _add_api(app: FastAPI, staging: StagingEngine) -> None:
    @app.get("/api/health")
    def health_json() -> JSONResponse:
        health = views.collect_health(staging.get())
        return JSONResponse(_plain(asdict(health)))

    @app.get("/api/issues")
    def issues_json() -> JSONResponse:
        return JSONResponse(
            _plain([asdict(group) for group in views.collect_issues(staging.get())])
        )


def _add_error_pages(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def refused(request: Request, exc: StarletteHTTPException) -> Response:
        # A person opening a page without a (valid) session goes to the login page and back.
        if _wants_page(request) and (exc.status_code == 401 or exc.detail == INVALID_SESSION):
            return RedirectResponse(login_url(request), status_code=303)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, _exc: RequestValidationError) -> Response:
        return JSONResponse({"detail": "invalid request"}, status_code=422)


def _wants_page(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def _plain(value: Any) -> Any:
    # JSON for dataclasses holding datetimes.
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value
