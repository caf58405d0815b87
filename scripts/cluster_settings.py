"""The Airflow settings of the local cluster, derived from docker-compose.yaml.

docker-compose.yaml's ``x-airflow-common`` environment is the one source of truth: every key in
it reaches the cluster with Compose's own ``${VAR:-default}`` interpolation applied, except the
few in :data:`HOST_SPECIFIC_KEYS` whose values name container hosts or paths. The cluster then
adds what the official image gets from its defaults or its container (:data:`CLUSTER_ONLY_KEYS`):
the home and folders, ports on the loopback interface, and the sizes of a 2-core machine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yaml"

# Keys of x-airflow-common whose compose values name hosts or paths inside the containers.
HOST_SPECIFIC_KEYS = frozenset(
    {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__CELERY__RESULT_BACKEND",
        "AIRFLOW__CELERY__BROKER_URL",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE",
        "CONNECTWISE_INCLUDE_DIR",
        "PYTHONPATH",
    }
)
# Keys the cluster sets that compose leaves to the image (AIRFLOW_HOME=/opt/airflow and its
# dags/ and plugins/) or to Airflow's defaults, which assume a machine of one's own (port 8080,
# 8974, 8793 and 8794 on every interface; parallelism 32; one api-server worker per core).
CLUSTER_ONLY_KEYS = frozenset(
    {
        "AIRFLOW_HOME",
        "AIRFLOW__CORE__DAGS_FOLDER",
        "AIRFLOW__CORE__PLUGINS_FOLDER",
        "AIRFLOW__CORE__PARALLELISM",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY",
        "AIRFLOW__API__HOST",
        "AIRFLOW__API__PORT",
        "AIRFLOW__API__WORKERS",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT",
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT",
    }
)
# Compose interpolation: $$ is a literal $, ${NAME}, ${NAME-default} and ${NAME:-default}.
_INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<colon>:?)-(?P<default>[^}]*))?\}"
)


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where one cluster's components find each other and listen."""

    home: Path  # the cluster folder; AIRFLOW_HOME is home / "airflow"
    postgres_url: str  # the server, e.g. postgresql://postgres@127.0.0.1:5432
    database: str
    redis_url: str  # the server, e.g. redis://127.0.0.1:6379
    redis_db: int
    api_host: str
    api_port: int
    scheduler_health_port: int
    trigger_log_port: int
    worker_log_ports: tuple[int, ...]
    concurrency: int


def substitute(value: str, variables: Mapping[str, str]) -> str:
    """Interpolate ``value`` the way Docker Compose does, from ``variables`` only.

    ``${NAME:-default}`` uses the default when NAME is unset or empty, ``${NAME-default}`` only
    when it is unset; ``${NAME}`` unset becomes empty (Compose warns, the project's tests forbid
    it); ``$$`` is a literal ``$``.
    """

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group("name"), match.group("default")
        current = variables.get(name)
        if default is None:
            return current or ""
        is_missing = current is None or (match.group("colon") == ":" and current == "")
        return default if is_missing else str(current)

    return _INTERPOLATION.sub(replace, value)


def compose_environment(
    compose_file: Path = COMPOSE_FILE, variables: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return the ``x-airflow-common`` environment of ``compose_file``, interpolated.

    Raises:
        ValueError: the file has no ``x-airflow-common.environment`` mapping.
    """
    document = yaml.safe_load(compose_file.read_text(encoding="utf-8"))
    environment = (document.get("x-airflow-common") or {}).get("environment")
    if not isinstance(environment, dict):
        raise ValueError(f"{compose_file}: x-airflow-common.environment is not a mapping")
    return {
        key: substitute(_compose_string(value), variables or {})
        for key, value in environment.items()
    }


def _compose_string(value: object) -> str:
    # Compose writes YAML booleans as lower-case strings.
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def broker_url(endpoints: Endpoints) -> str:
    """Return the Celery broker URL: database ``endpoints.redis_db`` of the Redis server."""
    return f"{endpoints.redis_url.rstrip('/')}/{endpoints.redis_db}"


def host_specific_values(endpoints: Endpoints, compose: Mapping[str, str]) -> dict[str, str]:
    """Return the :data:`HOST_SPECIFIC_KEYS` for ``endpoints``, keeping compose's URL schemes.

    The drivers (``postgresql+psycopg2``, Celery's ``db+postgresql``) come from the compose
    values; only server, credentials and database are replaced.
    """
    from sqlalchemy.engine import URL, make_url

    server = make_url(endpoints.postgres_url)

    def on_our_server(compose_url: str) -> str:
        celery_prefix = "db+" if compose_url.startswith("db+") else ""  # Celery's SQLAlchemy mark
        # URL.create, not URL.set: set() keeps compose's password when ours is None.
        url = URL.create(
            make_url(compose_url.removeprefix("db+")).drivername,
            username=server.username,
            password=server.password,
            host=server.host,
            port=server.port,
            database=endpoints.database,
        )
        return celery_prefix + url.render_as_string(hide_password=False)

    airflow_home = endpoints.home / "airflow"
    return {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": on_our_server(
            compose["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        ),
        "AIRFLOW__CELERY__RESULT_BACKEND": on_our_server(
            compose["AIRFLOW__CELERY__RESULT_BACKEND"]
        ),
        "AIRFLOW__CELERY__BROKER_URL": broker_url(endpoints),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": (
            f"http://{endpoints.api_host}:{endpoints.api_port}/execution/"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(
            airflow_home / "simple_auth_manager_passwords.json"
        ),
        "CONNECTWISE_INCLUDE_DIR": str(ROOT / "include"),
        "PYTHONPATH": str(ROOT / "plugins"),
    }


def cluster_only_values(endpoints: Endpoints) -> dict[str, str]:
    """Return the :data:`CLUSTER_ONLY_KEYS` for ``endpoints``.

    The worker log port is the first worker's: each worker overrides it with its own, and the
    other components use it to read a running task's log (every worker serves the same folder).
    """
    return {
        "AIRFLOW_HOME": str(endpoints.home / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        # The executor queues at most `parallelism` tasks. Twice the workers' slots: a worker
        # added is capacity added, and a slot that frees takes the next task from the broker at
        # once instead of waiting for the scheduler's next loop to queue one.
        "AIRFLOW__CORE__PARALLELISM": str(
            2 * len(endpoints.worker_log_ports) * endpoints.concurrency
        ),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(endpoints.concurrency),
        "AIRFLOW__API__HOST": endpoints.api_host,
        "AIRFLOW__API__PORT": str(endpoints.api_port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "127.0.0.1",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(
            endpoints.scheduler_health_port
        ),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(endpoints.worker_log_ports[0]),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(endpoints.trigger_log_port),
    }


def airflow_settings(
    endpoints: Endpoints,
    variables: Mapping[str, str] | None = None,
    compose_file: Path = COMPOSE_FILE,
) -> dict[str, str]:
    """Return every Airflow setting of the cluster: compose's, host-specific, cluster-only.

    ``variables`` are what Compose would read from the shell or ``.env`` (e.g.
    ``_AIRFLOW_WWW_USER_USERNAME``); unset ones take the file's defaults.
    """
    compose = compose_environment(compose_file, variables)
    return {**compose, **host_specific_values(endpoints, compose), **cluster_only_values(endpoints)}
