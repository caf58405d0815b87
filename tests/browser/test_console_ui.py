"""The ConnectWise console, end to end in the real Airflow UI (headless Chromium).

Against ``airflow standalone`` and the simulator, with a mapping that leaves the opportunity
status "Lost" out: the preflight and a sync run through the REST API; then a user logs in, opens
"ConnectWise" in the navigation and reads the figures staging holds, opens "Issues",
sees the group of "Lost" opportunities, fixes the mapping file, presses Re-process (which
triggers ``connectwise_manual_sync`` in re-map mode through Airflow's REST API as that user)
and sees the group disappear; staging then holds those opportunities. Without a session the
console refuses (401) or sends a browser to the login page.

Screenshots go to ``docs/img/`` (or ``$CW_BROWSER_SCREENSHOT_DIR``) once every check passed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from connectwise.entities import REGISTRY

from scripts.live_airflow import Standalone
from tests.browser.ui_script import run_ui_script

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = "/connectwise-console"
SYNC_DAG = "connectwise_manual_sync"
PREFLIGHT_DAG = "connectwise_preflight"  # both unpaused by the live_airflow fixture
SYNCED = ["opportunities"]  # with what it depends on (companies, statuses, stages, members ...)
RUN_TIMEOUT_SECONDS = 240
SCREENSHOT_DIR = Path(os.environ.get("CW_BROWSER_SCREENSHOT_DIR", ROOT / "docs" / "img"))
SCREENSHOTS = ("console-overview.png", "console-issues.png", "console-issues-resolved.png")


def staged_figures(staging: Path) -> dict[str, dict[str, int]]:
    """Live rows and open quarantine per entity, read from the staging file."""
    engine = sa.create_engine(f"sqlite:///{staging}")
    try:
        with engine.connect() as connection:
            open_rows = dict(
                connection.execute(
                    sa.text(
                        "SELECT entity, COUNT(*) FROM meta_quarantine WHERE resolved_at IS NULL "
                        "GROUP BY entity"
                    )
                ).all()
            )
            return {
                entity.name: {
                    "rows": connection.execute(
                        sa.text(
                            f"SELECT COUNT(*) FROM {entity.staging_table} WHERE deleted_at IS NULL"
                        )
                    ).scalar_one(),
                    "quarantined": int(open_rows.get(entity.name, 0)),
                }
                for entity in REGISTRY
            }
    finally:
        engine.dispose()


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_console_shows_sync_health_and_reprocess_clears_an_issue(
    browser_tools: dict[str, str],
    live_airflow: Standalone,
    console_mapping,
    staging_of: Path,
    janitor,
    tmp_path: Path,
) -> None:
    """Figures, the Issues group, the mapping fix and Re-process, as an operator does it."""
    base = live_airflow.api.base_url

    # Without a session: scripts get 401, a browser goes to the login page.
    assert requests.get(f"{base}{CONSOLE}/api/health", timeout=10).status_code == 401
    page = requests.get(
        f"{base}{CONSOLE}/", headers={"Accept": "text/html"}, allow_redirects=False, timeout=10
    )
    assert page.status_code == 303 and "/auth/login" in page.headers["location"]

    # The preflight, then a sync of the opportunities (and what they depend on).
    for dag_id, conf in ((PREFLIGHT_DAG, {}), (SYNC_DAG, {"data_types": SYNCED, "mode": "full"})):
        run_id = live_airflow.api.trigger(dag_id, conf)
        run = live_airflow.api.wait_for_run(dag_id, run_id, timeout=RUN_TIMEOUT_SECONDS)
        assert run["state"] == "success", (dag_id, run)
    before = staged_figures(staging_of)
    lost = before["opportunities"]["quarantined"]
    assert lost > 0, "the tenant has Lost opportunities, which this mapping does not map"

    shown = {name: before[name] for name in ("companies", "contacts", "opportunities")}
    config = {
        "baseUrl": base,
        "username": live_airflow.api.username,
        "password": live_airflow.api.password,
        "timeoutSeconds": RUN_TIMEOUT_SECONDS,
        "expected": {"entities": shown},
        "issueEntity": "opportunities",
        "issueValue": "Lost",
        "mappingPath": str(console_mapping.path),
        "fixedMapping": console_mapping.fixed,
        "overviewPng": str(tmp_path / SCREENSHOTS[0]),
        "issuesPng": str(tmp_path / SCREENSHOTS[1]),
        "resolvedPng": str(tmp_path / SCREENSHOTS[2]),
        "failurePng": str(tmp_path / "failure.png"),
    }
    run = run_ui_script(
        "console.mjs",
        config,
        browser_tools=browser_tools,
        janitor=janitor,
        work=tmp_path,
        timeout=RUN_TIMEOUT_SECONDS + 120,
    )
    if not run.ok:
        pytest.fail(
            f"The browser run failed (screenshot {config['failurePng']}): {run.failure()}\n"
            f"navigation: {run.result.get('nav', '')[:3000]}\n"
            f"Airflow log tail:\n{live_airflow.log_tail(40)}"
        )
    result = run.result

    # What the page showed is what staging held.
    assert result["navLabels"] == ["ConnectWise", "Issues"]
    assert result["totalRows"] == f"{sum(item['rows'] for item in before.values()):,}"
    for name, figures in shown.items():
        assert result["entities"][name]["rows"] == f"{figures['rows']:,}", name
        assert result["entities"][name]["quarantined"] == f"{figures['quarantined']:,}", name
        assert result["entities"][name]["charts"] == 3, name
    assert result["preflight"].endswith("1 warn · 0 fail"), result["preflight"]
    assert "'Lost'" in result["groupTitle"]
    assert result["groupCount"] == f"{lost:,} records"
    assert "opportunity_status_map" in result["groupFix"]
    assert result["exampleRows"] == min(3, lost)

    # Re-process ran the manual sync in re-map mode, as the logged-in user, and it landed.
    runs = live_airflow.api.call("GET", f"dags/{SYNC_DAG}/dagRuns")["dag_runs"]
    remap = [run for run in runs if run["conf"].get("mode") == "remap"]
    assert len(remap) == 1 and remap[0]["state"] == "success"
    assert remap[0]["conf"]["data_types"] == ["opportunities"]
    assert remap[0]["triggering_user_name"] == live_airflow.api.username
    after = staged_figures(staging_of)
    assert after["opportunities"]["quarantined"] == 0
    assert after["opportunities"]["rows"] == before["opportunities"]["rows"] + lost

    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for name in SCREENSHOTS[:2]:  # the README shows these two
        shutil.copyfile(tmp_path / name, SCREENSHOT_DIR / name)
