"""The manual sync, end to end through the real Airflow UI in headless Chromium.

A user logs in on the login page, opens ``connectwise_manual_sync``, reads the form's help
(what each mode does, "Look for deleted records" off), clears the default data types (Trigger
is then disabled and the help says why), picks "Companies: Company types" and "Manufacturers:
Manufacturers", triggers, and watches the run page until the run succeeds. The REST API and
the staging database then confirm that exactly those two entities (they have no dependencies)
were synchronized.

Screenshots of the filled form and of the successful run are copied to ``docs/img/`` (or to
``$CW_BROWSER_SCREENSHOT_DIR``) once every check has passed. Needs Debian's chromium, node and
playwright-core (``scripts/install_browser.sh``); without them the test skips, saying which is
missing.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from connectwise.dag_graph import sync_task_id
from connectwise.entities import REGISTRY
from connectwise.manual import data_type_labels

from tests.browser.ui_script import run_ui_script

BROWSER_DIR = Path(__file__).resolve().parent
ROOT = BROWSER_DIR.parents[1]
DAG_ID = "connectwise_manual_sync"
CHOSEN = ["company_types", "manufacturers"]
RUN_TIMEOUT_SECONDS = 180
SCREENSHOT_DIR = Path(os.environ.get("CW_BROWSER_SCREENSHOT_DIR", ROOT / "docs" / "img"))
SCREENSHOTS = ("manual-sync-form.png", "manual-sync-run-success.png")


def drive_browser(stack, browser_tools: dict[str, str], janitor, work: Path) -> dict:
    """Run manual_sync.mjs against ``stack`` (a running Standalone); return its RESULT object."""
    labels = data_type_labels()
    config = {
        "baseUrl": stack.api.base_url,
        "username": stack.api.username,
        "password": stack.api.password,
        "dagId": DAG_ID,
        "labels": [labels[name] for name in CHOSEN],
        "values": CHOSEN,
        "formPng": str(work / SCREENSHOTS[0]),
        "successPng": str(work / SCREENSHOTS[1]),
        "emptyPng": str(work / "manual-sync-form-empty.png"),
        "modeHelpProbe": "re-reads every record of the chosen types",
        "emptyHelpProbe": "Trigger stays disabled",
        "failurePng": str(work / "failure.png"),
        "timeoutSeconds": RUN_TIMEOUT_SECONDS,
    }
    run = run_ui_script(
        "manual_sync.mjs",
        config,
        browser_tools=browser_tools,
        janitor=janitor,
        work=work,
        timeout=RUN_TIMEOUT_SECONDS + 90,
    )
    if not run.ok:
        pytest.fail(
            f"The browser run failed (screenshot {config['failurePng']}): {run.failure()}\n"
            f"Airflow log tail:\n{stack.log_tail(40)}"
        )
    return run.result


@pytest.mark.browser
@pytest.mark.timeout(480)
def test_manual_sync_from_the_trigger_form(
    browser_tools: dict[str, str], live_airflow, live_sim, staging_of, janitor, tmp_path: Path
) -> None:
    """Pick two data types in the UI form; only they are synchronized, and the run succeeds."""
    stack, sim_process = live_airflow, live_sim
    runs_before = {run["dag_run_id"] for run in stack.api.call("GET", "dags/~/dagRuns")["dag_runs"]}
    started = time.monotonic()
    result = drive_browser(stack, browser_tools, janitor, tmp_path)
    print(f"browser part: {time.monotonic() - started:.1f} s")

    # What the form showed and sent.
    assert result["widget"] == "multi-select"
    assert result["defaultSelection"] == REGISTRY.names(), "the form starts with every data type"
    assert result["modeHelp"], "the Mode field shows what each mode does"
    assert result["findDeletedChecked"] is False, "'Look for deleted records' starts off"
    assert result["triggerDisabledWhenEmpty"] and result["emptyHelp"], (
        "with no data type picked, Trigger is disabled and the help says why"
    )
    assert result["triggerDisabledWhenPicked"] is False
    assert result["selection"] == CHOSEN
    assert result["chips"] == [1, 1], "each chosen data type shows as one labelled chip"
    assert result["finalState"] == "success"

    # The REST API agrees: one new run (of any DAG), successful, with exactly the chosen types.
    runs = stack.api.call("GET", "dags/~/dagRuns")["dag_runs"]
    new = [(r["dag_id"], r["dag_run_id"]) for r in runs if r["dag_run_id"] not in runs_before]
    assert new == [(DAG_ID, result["runId"])]
    run = stack.api.run(DAG_ID, result["runId"])
    assert run["state"] == "success"
    assert run["run_type"] == "manual"
    assert sorted(run["conf"]["data_types"]) == sorted(CHOSEN)
    assert run["conf"]["find_deleted"] is False
    assert len(run["conf"]["data_types"]) == len(CHOSEN)
    instances = stack.api.task_instances(DAG_ID, result["runId"])
    sync_states = {
        ti["task_id"]: ti["state"] for ti in instances if ti["task_id"].startswith("sync_")
    }
    planned_tasks = {sync_task_id(REGISTRY[name]) for name in CHOSEN}  # both are lookups
    assert {task for task, state in sync_states.items() if state == "success"} == planned_tasks
    others = {state for task, state in sync_states.items() if task not in planned_tasks}
    assert others == {"skipped"}

    # The staging database: run history only for the chosen entities (they depend on nothing).
    planned = {entity.name for entity in REGISTRY.with_dependencies(CHOSEN)}
    assert planned == set(CHOSEN)
    engine = sa.create_engine(f"sqlite:///{staging_of}")
    try:
        with engine.connect() as connection:
            history = connection.execute(
                sa.text(
                    "SELECT entity, status, fetched FROM meta_sync_runs WHERE run_id = :run_id "
                    "ORDER BY entity"
                ),
                {"run_id": result["runId"]},
            ).all()
            staged = {
                name: connection.execute(
                    sa.text(f"SELECT COUNT(*) FROM {REGISTRY.entities[name].staging_table}")
                ).scalar_one()
                for name in CHOSEN
            }
    finally:
        engine.dispose()
    assert {row.entity for row in history} == set(CHOSEN), history
    assert {row.status for row in history} == {"success"}, history
    for name in CHOSEN:
        truth = sim_process.truth(REGISTRY.entities[name].endpoint)
        assert truth, f"the simulator has no {name}"
        assert staged[name] == len(truth), (name, staged[name], len(truth))

    # Everything checked: publish the screenshots (only a fully passing run replaces them).
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for name in SCREENSHOTS:
        shutil.copyfile(tmp_path / name, SCREENSHOT_DIR / name)
