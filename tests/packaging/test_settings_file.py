"""airflow_settings.yaml: validation, conversion to the Airflow CLI formats, and a real import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from connectwise.settings_file import (
    SettingsFileError,
    load_settings_file,
    mask_text,
    masked_document,
    parse_settings,
    plan_imports,
    secret_values,
)

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "airflow_settings.yaml"
SCRIPT = ROOT / "scripts" / "apply_settings.py"
AIRFLOW = Path(sys.executable).parent / "airflow"
PASSWORD = "acme-private-s3cret"  # the simulator's published demo key, in the shipped file
CLIENT_ID = "b2e0c3a4-1111-4222-8333-944455556666"

GOOD = """\
airflow:
  connections:
    - conn_id: cw
      conn_type: connectwise
      conn_host: na.myconnectwise.net
      conn_login: pub
      conn_password: TopS3cret!
      conn_extra:
        company_id: acme
        client_id: guid-1
  pools:
    - pool_name: api
      pool_slot: 2
  variables:
    - variable_name: connectwise_sync_interval
      variable_value: 1h
"""


def parse(text: str):
    return parse_settings(textwrap.dedent(text), "settings.yaml")


def error_of(text: str) -> str:
    with pytest.raises(SettingsFileError) as caught:
        parse(text)
    return str(caught.value)


def step(settings, section: str):
    return next(s for s in plan_imports(settings) if s.section == section)


# --- the shipped file ---------------------------------------------------------------------------


def test_shipped_settings_file_is_valid_and_complete() -> None:
    settings = load_settings_file(SHIPPED)
    assert [c.conn_id for c in settings.connections] == [
        "connectwise_default",
        "connectwise_staging",
    ]
    assert [(p.pool_name, p.pool_slot) for p in settings.pools] == [("connectwise_api", 4)]
    assert settings.pools[0].pool_description
    assert [(v.variable_name, v.variable_value) for v in settings.variables] == [
        ("connectwise_sync_interval", "15m")
    ]


def test_shipped_connections_point_at_the_compose_services() -> None:
    connections = step(load_settings_file(SHIPPED), "connections").document
    default = connections["connectwise_default"]
    assert default["conn_type"] == "connectwise"
    assert default["host"] == "simulator:8765"
    assert json.loads(default["extra"]) == {
        "company_id": "acme",
        "client_id": CLIENT_ID,
        "scheme": "http",
        "callback_url": "http://airflow-apiserver:8080/connectwise",
    }
    staging = json.loads(connections["connectwise_staging"]["extra"])
    assert staging == {
        "sqlalchemy_url": "postgresql+psycopg://airflow:airflow@postgres:5432/staging"
    }


# --- precise errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "airflow:\n  pools:\n    - pool_name: [x\n",
            "settings.yaml: line 4, column 1: invalid YAML",
        ),
        ("", "settings.yaml: missing the root key 'airflow:' (the file is empty)"),
        ("connections: []\n", "missing the root key 'airflow:' (found: connections)"),
        ("- airflow\n", "missing the root key 'airflow:' (found a list, not a mapping)"),
        ("airflow: {}\nextra: 1\n", "unknown key(s) extra (allowed: airflow)"),
        (
            "airflow:\n  conections: []\n",
            "airflow: unknown key(s) conections (allowed: connections, pools, variables)",
        ),
        (
            "airflow:\n  pools:\n    pool_name: x\n",
            "airflow.pools: must be a list of items ('- pool_name: ...')",
        ),
        (
            "airflow:\n  pools:\n    - api\n",
            "pools[0]: must be a mapping of pool_name, pool_slot, pool_description.",
        ),
    ],
    ids=[
        "bad-yaml",
        "empty",
        "no-root",
        "not-a-mapping",
        "extra-root",
        "typo-section",
        "section-not-list",
        "item-not-mapping",
    ],
)
def test_file_structure_errors_name_file_and_place(text: str, expected: str) -> None:
    assert expected in error_of(text)


def test_unknown_item_key_names_item_key_and_allowed_keys() -> None:
    message = error_of("""\
        airflow:
          connections:
            - conn_id: a
              conn_type: generic
            - conn_id: b
              conn_type: generic
              conn_hots: db.example.com
        """)
    assert message == (
        "settings.yaml: connections[1] (line 5): unknown key 'conn_hots' (allowed: conn_id, "
        "conn_type, conn_host, conn_schema, conn_login, conn_password, conn_port, conn_extra)."
    )


def test_missing_required_key_is_named() -> None:
    message = error_of("airflow:\n  connections:\n    - conn_id: a\n      conn_host: h\n")
    assert "settings.yaml: connections[0] (line 3): missing required key 'conn_type'." in message


@pytest.mark.parametrize(
    ("section", "items", "key"),
    [
        ("connections", ["conn_id: a\n      conn_type: generic"] * 2, "conn_id 'a'"),
        ("pools", ["pool_name: p\n      pool_slot: 1"] * 2, "pool_name 'p'"),
        ("variables", ["variable_name: v\n      variable_value: x"] * 2, "variable_name 'v'"),
    ],
)
def test_duplicate_ids_are_rejected(section: str, items: list[str], key: str) -> None:
    text = f"airflow:\n  {section}:\n" + "".join(f"    - {item}\n" for item in items)
    assert f"{section}[1] (line 5): {key} repeats {section}[0]." in error_of(text)


def test_duplicate_key_inside_an_item_is_a_yaml_error_with_its_line() -> None:
    message = error_of("airflow:\n  pools:\n    - pool_name: a\n      pool_name: b\n")
    assert "line 4, column 7: invalid YAML: duplicate key 'pool_name'" in message


@pytest.mark.parametrize("slots", ["0", "-1", "'4'", "4.5", "true", "null"])
def test_pool_slots_must_be_a_positive_whole_number(slots: str) -> None:
    message = error_of(f"airflow:\n  pools:\n    - pool_name: p\n      pool_slot: {slots}\n")
    assert "pools[0] (line 3): pool_slot: must be a positive whole number, e.g. 4" in message


def test_conn_extra_may_be_a_json_string() -> None:
    mapping = parse(GOOD)
    as_json = parse(
        GOOD.replace(
            "      conn_extra:\n        company_id: acme\n        client_id: guid-1\n",
            '      conn_extra: \'{"company_id": "acme", "client_id": "guid-1"}\'\n',
        )
    )
    assert mapping.connections[0].conn_extra == as_json.connections[0].conn_extra


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "'{\"company_id\": acme}'",
            "conn_extra: is not valid JSON (Expecting value at column 16)",
        ),
        ("[1, 2]", "conn_extra: must be a mapping of key: value lines or a JSON object string"),
    ],
)
def test_bad_conn_extra_is_explained(extra: str, expected: str) -> None:
    text = (
        "airflow:\n  connections:\n    - conn_id: a\n      conn_type: generic\n"
        f"      conn_extra: {extra}\n"
    )
    assert expected in error_of(text)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "conn_host: na.myconnectwise.net",
            "conn_host: https://na.myconnectwise.net/v4_6",
            "connections[0] (line 3): cw: Site 'https://na.myconnectwise.net/v4_6' includes a "
            "scheme",
        ),
        (
            "company_id: acme",
            "compnay_id: acme",
            "Unknown key(s) in the ConnectWise connection extra: compnay_id. Allowed: company_id",
        ),
        (
            "variable_value: 1h",
            "variable_value: 10m",
            "variables[0] (line 15): connectwise_sync_interval: '10m' is not allowed "
            "(use one of: 5m, 15m, 30m, 1h, 4h, 1d).",
        ),
        ("variable_value: 1h", "variable_value:", "variable_value: has no value"),
    ],
)
def test_values_the_dags_would_reject_are_caught_early(old: str, new: str, expected: str) -> None:
    assert expected in error_of(GOOD.replace(old, new))


def test_a_bad_staging_url_is_caught_without_echoing_it() -> None:
    message = error_of(
        "airflow:\n  connections:\n    - conn_id: connectwise_staging\n      conn_type: generic\n"
        "      conn_extra:\n        sqlalchemy_url: not a url TopS3cret!\n"
    )
    assert "conn_extra.sqlalchemy_url is not a database URL" in message
    assert "TopS3cret" not in message


def test_errors_never_echo_a_password() -> None:
    broken_yaml = GOOD.replace("conn_password: TopS3cret!", 'conn_password: "TopS3cret!')
    not_text = GOOD.replace("conn_password: TopS3cret!", "conn_password: [TopS3cret!]")
    for text in (broken_yaml, not_text):
        assert "TopS3cret" not in error_of(text)


def test_every_problem_is_reported_at_once() -> None:
    message = error_of(
        "airflow:\n  pools:\n    - pool_name: a\n      pool_slot: 0\n"
        "  variables:\n    - variable_name: v\n      value: x\n"
    )
    assert message.count("settings.yaml: ") == 3  # slot, unknown key, missing key


def test_astro_template_placeholders_are_skipped() -> None:
    settings = parse("""\
        airflow:
          connections:
            - conn_id:
              conn_type:
              conn_host:
              conn_schema:
              conn_login:
              conn_password:
              conn_port:
              conn_extra:
                example_extra_field: example-value
          pools:
            - pool_name:
              pool_slot:
              pool_description:
          variables:
            - variable_name:
              variable_value:
        """)
    assert plan_imports(settings) == []


# --- conversion to the stock CLI formats --------------------------------------------------------


def test_plan_runs_the_stock_import_commands_in_order() -> None:
    steps = plan_imports(parse(GOOD))
    assert [(s.arguments, s.file_name) for s in steps] == [
        (("connections", "import", "--overwrite"), "connections.json"),
        (("pools", "import"), "pools.json"),
        (("variables", "import", "-a", "skip"), "variables.json"),
    ]


def test_empty_sections_are_not_imported() -> None:
    steps = plan_imports(parse("airflow:\n  pools:\n    - pool_name: p\n      pool_slot: 1\n"))
    assert [s.section for s in steps] == ["pools"]


def test_connections_convert_with_the_extra_as_a_json_string() -> None:
    document = step(parse(GOOD), "connections").document
    assert document == {
        "cw": {
            "conn_type": "connectwise",
            "host": "na.myconnectwise.net",
            "login": "pub",
            "password": "TopS3cret!",
            "extra": json.dumps({"company_id": "acme", "client_id": "guid-1"}),
        }
    }


def test_connection_port_and_schema_convert() -> None:
    settings = parse(
        "airflow:\n  connections:\n    - conn_id: pg\n      conn_type: postgres\n"
        "      conn_host: db\n      conn_schema: staging\n      conn_port: 5432\n"
    )
    assert step(settings, "connections").document == {
        "pg": {"conn_type": "postgres", "host": "db", "schema": "staging", "port": 5432}
    }


def test_pools_convert_with_slots_description_and_include_deferred() -> None:
    settings = parse(
        "airflow:\n  pools:\n    - pool_name: a\n      pool_slot: 3\n      pool_description: d\n"
        "    - pool_name: b\n      pool_slot: 1\n"
    )
    assert step(settings, "pools").document == {
        "a": {"slots": 3, "description": "d", "include_deferred": False},
        "b": {"slots": 1, "description": "", "include_deferred": False},
    }


def test_each_tenant_of_the_tenants_file_gets_its_own_pool(tmp_path, monkeypatch) -> None:
    (tmp_path / "tenants.yaml").write_text(
        "tenants:\n  - {id: acme, connectwise_conn_id: cw_acme, pool_slots: 2}\n"
        "  - {id: globex, connectwise_conn_id: cw_globex}\n"
        "  - {id: paused, connectwise_conn_id: cw_paused, enabled: false}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CONNECTWISE_TENANTS_FILE", str(tmp_path / "tenants.yaml"))
    settings = parse("airflow:\n  pools:\n    - pool_name: connectwise_api\n      pool_slot: 4\n")

    pools = step(settings, "pools").document

    assert {name: pool["slots"] for name, pool in pools.items()} == {
        "connectwise_api": 4,
        "connectwise_api__acme": 2,
        "connectwise_api__globex": 4,
    }
    assert "tenant acme" in pools["connectwise_api__acme"]["description"]


def test_variables_convert_to_text() -> None:
    settings = parse(
        "airflow:\n  variables:\n    - variable_name: n\n      variable_value: 5\n"
        "    - variable_name: flag\n      variable_value: true\n"
        "    - variable_name: s\n      variable_value: '007'\n"
    )
    assert step(settings, "variables").document == {"n": "5", "flag": "true", "s": "007"}


def test_the_interval_variable_carries_a_description_for_the_ui() -> None:
    imported = step(parse(GOOD), "variables").document["connectwise_sync_interval"]
    assert imported["value"] == "1h"
    assert imported["description"].startswith(
        "How often connectwise_incremental_sync runs: 5m, 15m, 30m, 1h, 4h or 1d."
    )


def test_a_sensitive_variable_with_a_description_is_still_masked() -> None:
    from connectwise.settings_file import ImportStep

    secret_step = ImportStep(
        "variables", "variables.json", (), {"api_token": {"value": "abc123xyz", "description": "d"}}
    )
    secrets: set[str] = set()
    masked = masked_document(secret_step, secrets)
    assert masked == {"api_token": {"value": "***", "description": "d"}}
    assert secrets == {"abc123xyz"}


def test_masked_document_hides_passwords_sensitive_extras_and_url_passwords() -> None:
    settings = load_settings_file(SHIPPED)
    masked = masked_document(step(settings, "connections"))
    assert masked["connectwise_default"]["password"] == "***"
    assert json.loads(masked["connectwise_default"]["extra"])["client_id"] == "***"
    assert json.loads(masked["connectwise_staging"]["extra"])["sqlalchemy_url"] == (
        "postgresql+psycopg://airflow:***@postgres:5432/staging"
    )
    assert {PASSWORD, CLIENT_ID} <= secret_values(settings)


def test_mask_text_hides_known_secrets_and_url_passwords() -> None:
    text = f"key {PASSWORD} at postgresql://u:pw1@h/db"
    assert mask_text(text, {PASSWORD}) == "key *** at postgresql://u:***@h/db"


# --- the command --------------------------------------------------------------------------------


def run_script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=120,
    )


def test_dry_run_prints_the_plan_with_secrets_masked() -> None:
    result = run_script(str(SHIPPED), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "valid (2 connection(s), 1 pool(s), 1 variable(s))" in result.stdout
    for command in (
        "connections import --overwrite <tmp>/connections.json",
        "pools import <tmp>/pools.json",
        "variables import -a skip <tmp>/variables.json",
    ):
        assert f"Would run: airflow {command}" in result.stdout
    for secret in (PASSWORD, CLIENT_ID, "airflow:airflow@"):
        assert secret not in result.stdout + result.stderr


def test_invalid_file_exits_non_zero_with_the_message(tmp_path: Path) -> None:
    bad = tmp_path / "airflow_settings.yaml"
    bad.write_text("airflow:\n  pools:\n    - pool_name: p\n      pool_slot: 0\n")
    result = run_script(str(bad), "--dry-run")
    assert result.returncode == 1
    assert f"{bad}: pools[0] (line 3): pool_slot: must be a positive whole number" in result.stderr


def test_missing_file_exits_non_zero(tmp_path: Path) -> None:
    result = run_script(str(tmp_path / "nope.yaml"))
    assert result.returncode == 1
    assert "nope.yaml: cannot read it (No such file or directory)" in result.stderr


def airflow_env(home: Path) -> dict[str, str]:
    """A clean environment for a throwaway Airflow with SQLite metadata in ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CONNECTWISE"))}
    (home / "dags").mkdir()
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
        PATH=f"{AIRFLOW.parent}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def airflow(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(AIRFLOW), *args], capture_output=True, text=True, env=env, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_apply_loads_everything_and_applying_again_keeps_the_operators_interval(
    tmp_path: Path,
) -> None:
    env = airflow_env(tmp_path)
    airflow(env, "db", "migrate")

    result = run_script(str(SHIPPED), env=env)

    assert result.returncode == 0, result.stderr[-2000:]
    assert "Imported connection connectwise_default" in result.stdout
    assert "Uploaded 1 pool(s)" in result.stdout
    assert "1 of 1 variables successfully updated" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr
    connection = json.loads(
        airflow(env, "connections", "get", "connectwise_default", "-o", "json")
    )[0]
    assert (connection["conn_type"], connection["host"]) == ("connectwise", "simulator:8765")
    assert (connection["login"], connection["password"]) == ("acme-public", PASSWORD)
    assert connection["extra_dejson"] == {
        "company_id": "acme",
        "client_id": CLIENT_ID,
        "scheme": "http",
        "callback_url": "http://airflow-apiserver:8080/connectwise",
    }
    pool = json.loads(airflow(env, "pools", "get", "connectwise_api", "-o", "json"))[0]
    assert (pool["slots"], pool["include_deferred"]) == ("4", "False")
    assert airflow(env, "variables", "get", "connectwise_sync_interval").strip() == "15m"

    # An operator edits the interval in the UI; compose's airflow-init applies the file again.
    exported = tmp_path / "variables.json"
    airflow(env, "variables", "export", str(exported))
    stored = json.loads(exported.read_text())["connectwise_sync_interval"]
    assert stored["description"].startswith("How often connectwise_incremental_sync runs")
    airflow(env, "variables", "set", "connectwise_sync_interval", "1h")  # as in the UI

    again = run_script(str(SHIPPED), env=env)

    assert again.returncode == 0, again.stderr[-2000:]
    assert "['connectwise_sync_interval'] were skipped" in again.stdout
    assert airflow(env, "variables", "get", "connectwise_sync_interval").strip() == "1h"
