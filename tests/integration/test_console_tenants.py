"""The console of a deployment with tenants: a Tenants page, and each tenant's own pages.

Two tenants on PostgreSQL schemas; only acme has synced. The console is mounted beside
Airflow's real auth manager, as in test_console.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from airflow.api_fastapi.app import init_auth_manager
from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
from connectwise import jobs
from connectwise.console.app import StagingEngine, create_app
from connectwise.entities import REGISTRY
from connectwise.tenants import configured_tenants
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import connection_json
from tests.tenant_support import tenant_schemas

PREFIX = "/connectwise-console"
PAGE = {"Accept": "text/html"}
SYNCED = ("company_types", "companies")


@pytest.fixture(scope="module")
def airflow_db() -> None:
    from airflow.utils import db

    db.initdb()


@pytest.fixture
def console(airflow_db, shared_simulator, tmp_path, monkeypatch) -> Iterator[dict[str, Any]]:
    with tenant_schemas(tmp_path, monkeypatch, ("acme", "globex")):
        for name in ("acme", "globex"):
            connection = connection_json(shared_simulator)
            monkeypatch.setenv(f"AIRFLOW_CONN_CONNECTWISE_{name.upper()}", connection)
        acme = next(tenant for tenant in configured_tenants() or [] if tenant.id == "acme")
        job = jobs.open_job(acme)
        for entity in REGISTRY.with_dependencies(SYNCED):
            jobs.run_sync(job, entity.name, mode="full", run_id="tenant-console")
        job.engine.dispose()
        root = FastAPI()
        auth_manager = init_auth_manager(root)
        root.mount(PREFIX, create_app(StagingEngine(refresh_seconds=0)))
        user = SimpleAuthManagerUser(username="viewer", role="VIEWER")
        cookies = {"_token": auth_manager.generate_jwt(user)}
        yield {"client": TestClient(root, follow_redirects=False), "cookies": cookies}


def test_the_landing_page_lists_every_tenant_from_its_own_schema(console) -> None:
    client, cookies = console["client"], console["cookies"]

    rows = {
        row["tenant"]: row for row in client.get(f"{PREFIX}/api/tenants", cookies=cookies).json()
    }
    page = client.get(f"{PREFIX}/", headers=PAGE, cookies=cookies)

    assert rows["acme"]["rows"] > 0 and rows["acme"]["lag_seconds"] is not None
    assert (rows["globex"]["rows"], rows["globex"]["last_success_at"]) == (0, None)
    assert page.status_code == 200
    acme_row = re.search(r'<tr data-tenant="acme".*?</tr>', page.text, re.S).group(0)
    assert f">{rows['acme']['rows']:,}<" in acme_row
    assert 'href="/connectwise-console/?tenant=acme"' in acme_row
    assert 'data-tenant="globex"' in page.text


def test_each_tenants_pages_show_only_its_own_staging(console) -> None:
    client, cookies = console["client"], console["cookies"]

    acme = client.get(f"{PREFIX}/api/health?tenant=acme", cookies=cookies).json()
    globex = client.get(f"{PREFIX}/api/health?tenant=globex", cookies=cookies).json()
    page = client.get(f"{PREFIX}/issues?tenant=acme", headers=PAGE, cookies=cookies)

    rows = {item["entity"]: item["rows"] for item in acme["entities"]}
    assert rows["companies"] > 0
    assert all(item["rows"] == 0 for item in globex["entities"])
    assert page.status_code == 200 and 'id="tenant">acme<' in page.text
    assert 'href="/connectwise-console/?tenant=acme"' in page.text  # links keep the tenant


def test_a_tenant_that_is_not_configured_is_not_found(console) -> None:
    client, cookies = console["client"], console["cookies"]

    assert client.get(f"{PREFIX}/api/health?tenant=hooli", cookies=cookies).status_code == 404
    assert client.get(f"{PREFIX}/api/health", cookies=cookies).status_code == 404  # choose one
