"""The operator console: who may open it, and that it shows what staging holds (both databases).

The console app is mounted the way Airflow's api-server mounts it, next to Airflow's own auth
manager (SimpleAuthManager, initialised for real), so sessions are real Airflow JWTs and the
staging database is filled by real syncs from the simulator.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from airflow.api_fastapi.app import init_auth_manager
from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
from connectwise import jobs
from connectwise.console.app import StagingEngine, create_app
from connectwise.entities import REGISTRY
from connectwise.staging.database import create_staging_engine
from connectwise.staging.reports import entity_summary
from fastapi import FastAPI
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "/connectwise-console"
PAGE = {"Accept": "text/html"}
SYNCED = ("company_types", "companies", "contacts", "opportunity_statuses", "opportunities")


@pytest.fixture(scope="module")
def airflow_db() -> None:
    """Airflow's metadata tables: token checks read the revoked-token list."""
    from airflow.utils import db

    db.initdb()


@pytest.fixture
def console(airflow_db, staging_connection, staging_url) -> tuple[TestClient, object]:
    """A client of the console mounted beside Airflow's auth manager, and its auth manager."""
    staging_connection(staging_url)
    root = FastAPI()
    auth_manager = init_auth_manager(root)
    root.mount(PREFIX, create_app(StagingEngine(refresh_seconds=0)))
    return TestClient(root, follow_redirects=False), auth_manager


def session(auth_manager, role: str = "ADMIN") -> dict[str, str]:
    """The UI's session cookie of a logged-in user with ``role``."""
    token = auth_manager.generate_jwt(SimpleAuthManagerUser(username=role.lower(), role=role))
    return {"_token": token}


@pytest.fixture
def synced(shared_simulator, cw_connection, staging_url, tmp_path: Path):
    """A preflight and a full sync of a few entities; "Lost" opportunities are not mapped."""
    cw_connection(shared_simulator)
    engine = create_staging_engine(staging_url)
    mapping = tmp_path / "mapping.yaml"
    shipped = (ROOT / "include/mappings/connectwise.yaml").read_text()
    assert "\n  Lost: Lost\n" in shipped
    mapping.write_text(
        shipped.replace("\n  Lost: Lost\n", "\n").replace(
            "max_quarantine_ratio: 0.05", "max_quarantine_ratio: 1.0"
        )
    )
    jobs.run_preflight(jobs.open_job(engine=engine, mapping_path=mapping), "console-preflight")
    for entity in REGISTRY.with_dependencies(SYNCED):
        jobs.run_sync(
            jobs.open_job(engine=engine, mapping_path=mapping),
            entity.name,
            mode="full",
            run_id="c1",
        )
    return engine


def test_a_page_without_a_session_goes_to_the_login_page_and_back(console):
    client, _ = console
    response = client.get(f"{PREFIX}/issues", headers=PAGE)
    assert response.status_code == 303
    location = response.headers["location"]
    assert "/auth/login" in location and "next=" in location and "issues" in location


def test_requests_without_a_valid_session_are_refused(console):
    client, auth_manager = console
    assert client.get(f"{PREFIX}/api/health").status_code == 401
    assert client.get(f"{PREFIX}/docs/mapping").status_code == 401
    forged = session(auth_manager)["_token"][:-4] + "AAAA"
    assert client.get(f"{PREFIX}/api/health", cookies={"_token": forged}).status_code in (401, 403)
    page = client.get(f"{PREFIX}/", headers=PAGE, cookies={"_token": forged})
    assert page.status_code == 303 and "/auth/login" in page.headers["location"]
    bearer = {"Authorization": f"Bearer {session(auth_manager)['_token']}"}
    assert client.get(f"{PREFIX}/api/health", headers=bearer).status_code == 200


def test_the_overview_shows_what_staging_holds(console, synced):
    client, auth_manager = console
    cookies = session(auth_manager, "VIEWER")
    health = client.get(f"{PREFIX}/api/health", cookies=cookies).json()
    by_entity = {item["entity"]: item for item in health["entities"]}
    summary = {item["entity"]: item for item in entity_summary(synced)}
    assert list(by_entity) == REGISTRY.names()
    for name in SYNCED:
        assert by_entity[name]["rows"] == summary[name]["rows"]
        assert by_entity[name]["quarantined"] == summary[name]["quarantined"]
        assert by_entity[name]["last_success_at"] is not None
        assert by_entity[name]["recent"][-1]["run_id"] == "c1"
        assert by_entity[name]["recent"][-1]["records"] > 0
    assert by_entity["opportunities"]["quarantined"] > 0  # "Lost" is not mapped
    assert by_entity["agreements"]["last_success_at"] is None  # never synced
    assert health["inbox"] == {
        "name": "callback inbox",
        "pending": 0,
        "failed": 0,
        "oldest_pending_at": None,
    }
    assert [queue["name"] for queue in health["outboxes"]] == [
        "contacts",
        "todos",
        "quotes",
        "stages",
    ]
    # The preflight warned before the sync about the status the mapping leaves out.
    problems = [line for line in health["preflight"] if not line["ok"]]
    assert [(line["kind"], line["required"]) for line in problems] == [("coverage", False)]
    assert "'Lost'" in problems[0]["name"] and "quarantined" in problems[0]["detail"]
    assert sum(line["ok"] for line in health["preflight"]) > 30

    page = client.get(f"{PREFIX}/", headers=PAGE, cookies=cookies)
    assert page.status_code == 200
    html = page.text
    row = re.search(r'<tr data-entity="opportunities".*?</tr>', html, re.S).group(0)
    assert f">{summary['opportunities']['rows']:,}<" in row
    assert f">{summary['opportunities']['quarantined']:,}</a>" in row
    assert row.count("<svg") == 3  # duration, records, requests of the recent runs
    assert 'data-entity="agreements"' in html and "never run" in html
    assert 'id="outbox"' in html
    assert re.search(r'id="preflight-summary">\d+ ok · 1 warn · 0 fail<', html)


def test_the_outbox_and_inbox_show_waiting_and_failed_rows(console, synced):
    client, auth_manager = console
    with synced.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO outbox_todos (subject, contact_id, status, last_error) VALUES "
                "('Call back', 1, 'pending', NULL), ('Demo', 2, 'failed', 'contact 2 is gone')"
            )
        )
    health = client.get(f"{PREFIX}/api/health", cookies=session(auth_manager)).json()
    todos = next(queue for queue in health["outboxes"] if queue["name"] == "todos")
    assert (todos["pending"], todos["failed"]) == (1, 1)
    assert todos["oldest_pending_at"] is not None


def test_guides_are_served_with_their_links_rewritten(console):
    client, auth_manager = console
    cookies = session(auth_manager, "VIEWER")
    page = client.get(f"{PREFIX}/docs/architecture", cookies=cookies)
    assert page.status_code == 200
    assert "<h1>Architecture</h1>" in page.text
    index = client.get(f"{PREFIX}/docs/", cookies=cookies).text
    for path in sorted((ROOT / "docs").glob("*.md")):
        assert f'href="{PREFIX}/docs/{path.stem}"' in index
    assert client.get(f"{PREFIX}/docs/..%2FREADME", cookies=cookies).status_code == 404
    assert client.get(f"{PREFIX}/docs/nothing-here", cookies=cookies).status_code == 404
    assert (
        client.get(f"{PREFIX}/docs/img/..%2F..%2Fpyproject.toml", cookies=cookies).status_code
        == 404
    )


def test_static_assets_need_no_session(console):
    client, _ = console
    # The stylesheet, script and icon hold no data (pages do), and the nav loads the icon.
    for asset in ("console.css", "reprocess.js", "icon.svg"):
        assert client.get(f"{PREFIX}/static/{asset}").status_code == 200


def test_guides_mentioned_in_fix_texts_become_links_and_nothing_else_does():
    from connectwise.console.docs import doc_links

    linked = str(doc_links("Add it (docs/mapping.md), see <b>docs/nothing</b> & docs/x.md."))
    assert '<a href="/connectwise-console/docs/mapping">docs/mapping.md</a>' in linked
    assert '<a href="/connectwise-console/docs/x">docs/x.md</a>' in linked
    assert "&lt;b&gt;docs/nothing&lt;/b&gt; &amp;" in linked  # escaped, not markup


def test_issues_group_the_quarantine_and_offer_reprocess_to_who_may_trigger(console, synced):
    client, auth_manager = console
    lost = entity_summary(synced)[[e.name for e in REGISTRY].index("opportunities")]
    groups = client.get(f"{PREFIX}/api/issues", cookies=session(auth_manager)).json()
    assert [(group["entity"], group["count"]) for group in groups] == [
        ("opportunities", lost["quarantined"])
    ]
    assert "'Lost'" in groups[0]["summary"] and groups[0]["reprocess_helps"]
    assert [example["value"] for example in groups[0]["examples"]] == ["Lost"] * 3

    admin = client.get(f"{PREFIX}/issues", headers=PAGE, cookies=session(auth_manager)).text
    button = re.search(r"<button[^>]*class=\"reprocess\"[^>]*data-conf='([^']*)'", admin)
    assert json.loads(button.group(1).replace("&#34;", '"')) == {
        "data_types": ["opportunities"],
        "mode": "remap",
    }
    assert "reprocess.js" in admin
    assert '<a href="/connectwise-console/docs/mapping">' in admin  # the fix links its guide

    viewer = client.get(f"{PREFIX}/issues", headers=PAGE, cookies=session(auth_manager, "VIEWER"))
    assert viewer.status_code == 200 and "&#39;Lost&#39;" in viewer.text
    assert 'class="reprocess"' not in viewer.text and "reprocess.js" not in viewer.text
    assert "you cannot re-process" in viewer.text
