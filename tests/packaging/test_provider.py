"""The `connectwise` connection type is registered as a provider, as the Airflow CLI shows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def airflow_cli(*args: str) -> str:
    airflow = Path(sys.executable).parent / "airflow"
    result = subprocess.run(
        [str(airflow), *args],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def test_cli_lists_the_provider_and_its_hook():
    providers = airflow_cli("providers", "list")
    assert "connectwise-etl" in providers
    hooks = airflow_cli("providers", "hooks")
    line = next(line for line in hooks.splitlines() if line.startswith("connectwise "))
    assert "connectwise.client.hook.ConnectWiseHook" in line and "ConnectWise PSA" in line


def test_connection_form_has_labelled_fields_and_a_masked_client_id():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    behaviour = manager.field_behaviours["connectwise"]
    assert behaviour["relabeling"] == {
        "host": "Site",
        "login": "Public key",
        "password": "Private key",
    }
    # Port is shown, and may stay empty (the console plugin lets Test work then, too).
    assert set(behaviour["hidden_fields"]) == {"schema"}
    assert "443" in behaviour["placeholders"]["port"]  # empty is fine: the default port
    widgets = {
        name.rsplit("__", 1)[-1]: widget
        for name, widget in manager.connection_form_widgets.items()
        if name.startswith("extra__connectwise__")
    }
    assert widgets["company_id"].field["schema"]["title"] == "Company"
    assert widgets["client_id"].field["schema"]["title"] == "Client ID"
    assert widgets["client_id"].field["schema"]["format"] == "password"
    assert widgets["client_id"].is_sensitive and not widgets["company_id"].is_sensitive


def test_cli_stores_and_reads_back_a_connectwise_connection(tmp_path):
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path)}
    airflow = str(Path(sys.executable).parent / "airflow")

    def run(*args: str) -> str:
        return subprocess.run(
            [airflow, *args], env=env, capture_output=True, text=True, timeout=120, check=True
        ).stdout

    run("db", "migrate")
    run(
        "connections",
        "add",
        "cw_cli",
        "--conn-type",
        "connectwise",
        "--conn-host",
        "na.myconnectwise.net",
        "--conn-login",
        "pub",
        "--conn-password",
        "private-key-value",
        "--conn-extra",
        '{"company_id": "acme", "client_id": "cid"}',
    )
    listed = run("connections", "get", "cw_cli", "-o", "json")
    assert '"conn_type": "connectwise"' in listed


def test_the_connection_forms_test_button_runs_test_connection(shared_simulator, tmp_path):
    """POST /api/v2/connections/test is what the form's Test button calls."""
    import json
    import signal
    import time

    import httpx

    from simulator.testing import free_port

    port = free_port()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__DAGS_FOLDER": str(tmp_path / "dags"),
    }
    airflow = str(Path(sys.executable).parent / "airflow")
    subprocess.run([airflow, "db", "migrate"], env=env, capture_output=True, check=True)
    server = subprocess.Popen(
        [airflow, "api-server", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/api/v2/version", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        sim = shared_simulator
        extra = {"company_id": sim.company_id, "client_id": sim.client_id, "scheme": "http"}
        body = {
            "connection_id": "cw_form",
            "conn_type": "connectwise",
            "host": sim.host,
            "login": sim.public_key,
            "password": sim.private_key,
            "extra": json.dumps(extra),
        }
        good = httpx.post(f"{base}/api/v2/connections/test", json=body, timeout=60).json()
        bad = httpx.post(
            f"{base}/api/v2/connections/test",
            json={**body, "password": "wrong-key-123"},
            timeout=60,
        ).json()
        # Saved from the form with Port left empty, then tested from the list the way the
        # 3.3.2 UI does it: the stored row, port 0, the password masked.
        assert httpx.post(f"{base}/api/v2/connections", json=body, timeout=30).status_code == 201
        as_listed = {**body, "password": "***", "port": 0}
        from_the_list = httpx.post(f"{base}/api/v2/connections/test", json=as_listed, timeout=60)
        # Other connection types keep Airflow's own rule (the middleware is ours alone).
        http = {"connection_id": "web", "conn_type": "http", "host": "example.invalid"}
        assert httpx.post(f"{base}/api/v2/connections", json=http, timeout=30).status_code == 201
        other = httpx.post(f"{base}/api/v2/connections/test", json={**http, "port": 0}, timeout=60)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert good["status"] is True and "Connected to company 'acme'" in good["message"]
    assert bad["status"] is False and bad["message"].startswith("Public/private keys")
    assert "wrong-key-123" not in bad["message"]
    assert from_the_list.status_code == 200, from_the_list.text
    assert from_the_list.json()["status"] is True
    assert "Connected to company 'acme'" in from_the_list.json()["message"]
    assert other.status_code == 400 and "differs from the stored connection" in other.text
