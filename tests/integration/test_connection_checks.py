"""test_connection() and the preflight task name the cause of each setup mistake."""

from __future__ import annotations

import json

import pytest
from connectwise.client.hook import ConnectWiseHook

from tests.conftest import connection_json


def configure(monkeypatch, sim, **changes) -> None:
    connection = json.loads(connection_json(sim))
    extra = connection.pop("extra")
    extra.update(changes.pop("extra", {}))
    connection.update(changes)
    connection["extra"] = extra
    monkeypatch.setenv("AIRFLOW_CONN_CONNECTWISE_DEFAULT", json.dumps(connection))


def run_preflight_task():
    """Run the DAG's first task callable (the same code the Airflow task runs)."""
    from connectwise.tasks import preflight

    return preflight.function()


def test_good_connection_reports_company_codebase_and_modules(shared_simulator, monkeypatch):
    configure(monkeypatch, shared_simulator)
    ok, message = ConnectWiseHook().test_connection()
    assert ok, message
    assert "'acme'" in message and "v2025_1/" in message


def test_the_port_field_is_where_the_hook_connects(shared_simulator, monkeypatch):
    """The form's Port field (host without ':port'), as a connection saved in the UI holds it."""
    name, port = shared_simulator.host.rsplit(":", 1)
    configure(monkeypatch, shared_simulator, host=name, port=int(port))
    ok, message = ConnectWiseHook().test_connection()
    assert ok, message
    assert f"on {shared_simulator.host} " in message


def test_port_0_from_the_connection_list_means_no_port(shared_simulator, monkeypatch):
    """Airflow 3.3.2's Test button sends port 0 for a connection stored without a port."""
    configure(monkeypatch, shared_simulator, port=0)
    ok, message = ConnectWiseHook().test_connection()
    assert ok, message


def test_a_port_contradicting_the_site_is_reported_by_test_connection(
    shared_simulator, monkeypatch
):
    configure(monkeypatch, shared_simulator, port=1)
    ok, message = ConnectWiseHook().test_connection()
    assert not ok
    assert message.startswith("Site/connection settings") and "but Port is 1" in message


@pytest.mark.parametrize(
    ("changes", "cause", "hint"),
    [
        ({"host": "https://{host}"}, "Site/connection settings", "do not include http://"),
        ({"host": "{host}/v4_6_release/apis/3.0"}, "Site/connection settings", "includes a path"),
        ({"extra": {"company_id": "acmee"}}, "Company id", "does not know company id 'acmee'"),
        ({"password": "wrong-private-key"}, "Public/private keys", "key pair was rejected"),
    ],
    ids=["scheme-in-host", "path-in-host", "unknown-company", "wrong-keys"],
)
def test_each_connection_mistake_has_its_own_message(
    shared_simulator, monkeypatch, changes, cause, hint
):
    from airflow.sdk.exceptions import AirflowFailException

    if "host" in changes:
        changes = {"host": changes["host"].format(host=shared_simulator.host)}
    configure(monkeypatch, shared_simulator, **changes)
    ok, message = ConnectWiseHook().test_connection()
    assert not ok
    assert message.startswith(cause) and hint in message
    assert "wrong-private-key" not in message and shared_simulator.private_key not in message
    with pytest.raises(AirflowFailException, match=hint.replace("(", r"\(")):
        run_preflight_task()


def test_role_lacking_a_module_is_named(simulator, monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException

    configure(monkeypatch, simulator)
    simulator.set_auth(denied_modules=["Procurement"])
    ok, message = ConnectWiseHook().test_connection()
    assert not ok
    assert message.startswith("Security role")
    assert "Procurement (procurement/categories)" in message
    assert "Companies" not in message  # only the denied module is reported
    with pytest.raises(AirflowFailException, match="Procurement"):
        run_preflight_task()


def test_wrong_client_id_is_named(simulator, monkeypatch):
    configure(monkeypatch, simulator, extra={"client_id": "00000000-dead-beef-0000-000000000000"})
    ok, message = ConnectWiseHook().test_connection()
    assert not ok
    assert "client" in message.lower()


def test_unreachable_host_says_so(monkeypatch, shared_simulator):
    configure(monkeypatch, shared_simulator, host="127.0.0.1:9")
    ok, message = ConnectWiseHook().test_connection()
    assert not ok
    assert "Cannot reach ConnectWise at http://127.0.0.1:9" in message
