"""The console's FastAPI app, mounted in Airflow's api-server at ``/connectwise-console``.

Pages are rendered on the server (Jinja2, autoescaped) from the staging database the syncs
write; the only script is the Re-process button's call to Airflow's own REST API, made by the
browser with the user's session, so Airflow authorizes the trigger itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from connectwise.console import URL_PREFIX, docs, views
from connectwise.console.auth import (
    ConsoleUser,
    chosen_tenant,
    console_user,
    login_url,
    may,
    readable_tenants,
    tenants_configured,
)
from connectwise.issues import REPROCESS_DAG_ID
from connectwise.staging.database import staging_url, tenant_url
from connectwise.staging.migrations import MigratedEngines
from connectwise.tenant_overview import tenant_overview
from connectwise.tenants import DEFAULT_TENANT, Tenant

HERE = Path(__file__).resolve().parent
REFRESH_SECONDS = 60.0
# Airflow answers a forged or foreign session cookie with 403 and this detail.
INVALID_SESSION = "Invalid JWT token"


class StagingEngine:
    """Each tenant's staging database, its connection re-read at most once a minute."""

    def __init__(self, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._engines = MigratedEngines()
        self._current: dict[str | None, tuple[Engine, float]] = {}

    def get(self, tenant: Tenant = DEFAULT_TENANT) -> Engine:
        """Return the tenant's engine (each database or schema is migrated once)."""
        with self._lock:
            now = time.monotonic()
            known = self._current.get(tenant.id)
            if known is None or now - known[1] >= self.refresh_seconds:
                url = tenant_url(staging_url(tenant.staging_conn_id), tenant.schema)
                known = (self._engines.get(url, schema=tenant.schema), now)
                self._current[tenant.id] = known
            return known[0]


def create_app(staging: StagingEngine | None = None) -> FastAPI:
    """Build the console app (``staging`` defaults to the tenants' staging connections)."""
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
    def page(name: str, tenant: Tenant, **values: Any) -> HTMLResponse:
        # ``tenant``: the id the links carry (None without a tenants file, or on shared pages).
        html = templates.get_template(name).render(
            tenant=tenant.id,
            tenant_query=f"?tenant={quote(tenant.id)}" if tenant.id else "",
            multi_tenant=tenants_configured(),
            dag_id=tenant.dag_id,
            **values,
        )
        return HTMLResponse(html)

    @app.get("/", response_class=HTMLResponse)
    def overview(user: ConsoleUser, tenant: str | None = None) -> HTMLResponse:
        if tenant is None and tenants_configured():
            rows = tenant_overview(readable_tenants(user), staging.get)
            return page("tenants.html", DEFAULT_TENANT, rows=rows, active="tenants")
        chosen = chosen_tenant(user, tenant)
        health = views.collect_health(staging.get(chosen))
        return page("overview.html", chosen, health=health, active="overview")

    @app.get("/issues", response_class=HTMLResponse)
    def issues(user: ConsoleUser, tenant: str | None = None) -> HTMLResponse:
        chosen = chosen_tenant(user, tenant)
        reprocess_dag = chosen.dag_id(REPROCESS_DAG_ID)
        return page(
            "issues.html",
            chosen,
            issues=views.collect_issues(staging.get(chosen)),
            active="issues",
            can_reprocess=may(user, "POST", reprocess_dag),
            reprocess_dag=reprocess_dag,
        )

    _add_guides(app, page)


def _add_guides(app: FastAPI, page: Callable[..., HTMLResponse]) -> None:
    @app.get("/docs/", response_class=HTMLResponse)
    def docs_index() -> HTMLResponse:
        body = docs.index_html()
        return page("doc.html", DEFAULT_TENANT, title="Guides", body=body, active="docs")

    @app.get("/docs/img/{name}")
    def doc_image(name: str) -> Response:
        return docs.image(name)

    @app.get("/docs/{name}", response_class=HTMLResponse)
    def doc(name: str) -> HTMLResponse:
        title, body = docs.render(name)
        return page("doc.html", DEFAULT_TENANT, title=title, body=body, active="docs")


def _add_api(app: FastAPI, staging: StagingEngine) -> None:
    @app.get("/api/health")
    def health_json(user: ConsoleUser, tenant: str | None = None) -> JSONResponse:
        health = views.collect_health(staging.get(chosen_tenant(user, tenant)))
        return JSONResponse(_plain(asdict(health)))

    @app.get("/api/issues")
    def issues_json(user: ConsoleUser, tenant: str | None = None) -> JSONResponse:
        found = views.collect_issues(staging.get(chosen_tenant(user, tenant)))
        return JSONResponse(_plain([asdict(group) for group in found]))

    @app.get("/api/tenants")
    def tenants_json(user: ConsoleUser) -> JSONResponse:
        rows = tenant_overview(readable_tenants(user), staging.get)
        return JSONResponse(_plain([asdict(row) for row in rows]))


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
