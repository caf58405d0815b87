"""The connection form's Test button, clicked in headless Chromium on a form-made connection.

An operator logs in, opens Admin → Connections → Add, fills a ``connectwise`` connection that
points at the simulator (Port left empty, as a first-time operator does; the keys, Company and
Client ID in the extra fields, ``scheme: http`` in the extra JSON), saves it and presses the
row's **Test** button: the toast shows our success message. Then Edit sets a wrong private key,
and Test shows our precise, secret-free failure. Airflow 3.3.2's button sends ``port: 0`` for an
empty port, which its API refuses for a connection stored without one; the console plugin's
middleware leaves that 0 out (``connectwise/console/connection_test.py``): every request the UI
sent is checked for the port it carried.

The success screenshot is copied to ``docs/img/connection-test.png`` (or to
``$CW_BROWSER_SCREENSHOT_DIR``) once every check has passed. Needs Debian's chromium, node and
playwright-core (``scripts/install_browser.sh``); without them the test skips, saying which.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from scripts.janitor import Janitor
from scripts.live_airflow import Standalone
from tests.browser.ui_script import run_ui_script

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = Path(os.environ.get("CW_BROWSER_SCREENSHOT_DIR", ROOT / "docs" / "img"))
SCREENSHOT = "connection-test.png"
CONNECTION_ID = "connectwise_form"  # not connectwise_default: the stack sets that one by env
WRONG_PRIVATE_KEY = "wrong-private-key-7f3a"
BROWSER_TIMEOUT_SECONDS = 150


@pytest.mark.browser
@pytest.mark.timeout(420)
def test_form_made_connection_passes_test_then_fails_with_a_wrong_key(
    browser_tools: dict[str, str],
    live_airflow: Standalone,
    live_sim: Any,
    janitor: Janitor,
    tmp_path: Path,
) -> None:
    """Add in the form, Test → success; Edit to a wrong private key, Test → that cause."""
    stack, sim = live_airflow, live_sim
    site = sim.host  # the simulator's own port is part of the site; Port stays empty
    config = {
        "baseUrl": stack.api.base_url,
        "username": stack.api.username,
        "password": stack.api.password,
        "connectionId": CONNECTION_ID,
        "typeName": "ConnectWise PSA",
        "fields": {
            "site": site,
            "port": None,
            "publicKey": sim.public_key,
            "privateKey": sim.private_key,
            "companyId": sim.company_id,
            "clientId": sim.client_id,
        },
        "extraJson": {"scheme": "http"},  # the simulator speaks plain HTTP
        "wrongPrivateKey": WRONG_PRIVATE_KEY,
        "successPng": str(tmp_path / SCREENSHOT),
        "wrongKeyPng": str(tmp_path / "wrong-key.png"),
        "errorPng": str(tmp_path / "error.png"),
    }
    ui = run_ui_script(
        "connection_test.mjs",
        config,
        browser_tools=browser_tools,
        janitor=janitor,
        work=tmp_path,
        timeout=BROWSER_TIMEOUT_SECONDS,
    )
    if not ui.ok:
        pytest.fail(
            f"The browser run failed ({ui.failure()}, screenshot {config['errorPng']}).\n"
            f"Toasts: {ui.result.get('toasts')}\nRequests: {ui.result.get('requests')}\n"
            f"Airflow log tail:\n{stack.log_tail(40)}"
        )

    # The form stored no port; each Test sent 0 for it, and Airflow tested the stored one.
    stored = stack.api.call("GET", f"connections/{CONNECTION_ID}")
    assert (stored["conn_type"], stored["host"], stored["port"]) == ("connectwise", site, None)
    sent = [(r["method"], r["path"], r["port"], r.get("status")) for r in ui.result["requests"]]
    test_path = "/api/v2/connections/test"
    assert sent == [
        ("POST", "/api/v2/connections", None, 201),
        ("POST", test_path, 0, 200),
        ("PATCH", f"/api/v2/connections/{CONNECTION_ID}", None, 200),
        ("POST", test_path, 0, 200),
    ]

    # The toasts show our messages: where it connected, then which part is wrong.
    success, failure = ui.result["toasts"]
    assert success["title"] == "Test Connection Successful"
    assert success["message"].startswith(
        f"Connected to company {sim.company_id!r} on {sim.host} (codebase "
    )
    assert success["message"].endswith("every module the sync reads is allowed.")
    assert failure["title"] == "Test Connection Failed"
    assert failure["message"].startswith(
        f"Public/private keys: GET system/info returned 401 for company {sim.company_id!r} "
        f"on {sim.host}: the public/private key pair was rejected."
    )
    assert "System > Members > API Members > API Keys" in failure["message"]

    # No secret in what the operator saw, nor in Airflow's own output.
    secrets = (sim.private_key, WRONG_PRIVATE_KEY, sim.client_id)
    shown = " ".join(toast["message"] for toast in ui.result["toasts"])
    airflow_output = stack.log_path.read_text(errors="replace")
    for secret in secrets:
        assert secret not in shown
        assert secret not in airflow_output

    # Everything checked: publish the screenshot (only a fully passing run replaces it).
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tmp_path / SCREENSHOT, SCREENSHOT_DIR / SCREENSHOT)
