"""Many ConnectWise tenants in one deployment, as configuration (``include/tenants.yaml``).

Each tenant names its ConnectWise connection, its staging connection and schema (a
PostgreSQL schema per tenant; a file per tenant on SQLite), its mapping file, sync interval,
pool and queue. Every DAG is built once per enabled tenant (``connectwise_initial_sync__acme``)
and a task finds its tenant from its DAG's id. Without the file there is one tenant, the
default, whose DAG ids, connections and settings are exactly those of a single-tenant
deployment.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connectwise.config_errors import item_problems
from connectwise.errors import ConnectWiseConfigError
from connectwise.mapping.models import SYNC_INTERVAL_SCHEDULES
from connectwise.paths import include_dir
from connectwise.yaml_load import safe_load

TENANTS_ENV = "CONNECTWISE_TENANTS_FILE"
# What airflow.sdk.get_parsing_context() reads: set while a task's process parses its DAG file.
PARSING_DAG_ID_ENV = "_AIRFLOW_PARSING_CONTEXT_DAG_ID"
DAG_ID_SEPARATOR = "__"
SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"  # no "_": "__" separates a DAG's id from its tenant
DEFAULT_CONNECTWISE_CONN_ID = "connectwise_default"
DEFAULT_STAGING_CONN_ID = "connectwise_staging"
DEFAULT_POOL_SLOTS = 4


class TenantsFileError(ConnectWiseConfigError):
    """The tenants file cannot be read or is invalid; the message says where and why."""


class TenantSpec(BaseModel):
    """One item of ``tenants:``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    id: Annotated[str, Field(pattern=SLUG, max_length=40)]
    connectwise_conn_id: Annotated[str, Field(min_length=1, pattern=r"^[\w.-]+$")]
    staging_conn_id: Annotated[str, Field(min_length=1, pattern=r"^[\w.-]+$")] = (
        DEFAULT_STAGING_CONN_ID
    )
    schema_name: Annotated[str, Field(alias="schema", pattern=r"^[a-z_][a-z0-9_]{0,62}$")] = ""
    mapping_file: str | None = None
    sync_interval: str | None = None
    pool_slots: Annotated[int, Field(ge=1, le=128)] = DEFAULT_POOL_SLOTS
    queue: Annotated[str, Field(min_length=1, pattern=r"^[\w.-]+$")] | None = None
    enabled: bool = True

    @field_validator("sync_interval")
    @classmethod
    def _known_interval(cls, value: str | None) -> str | None:
        if value is not None and value not in SYNC_INTERVAL_SCHEDULES:
            allowed = ", ".join(SYNC_INTERVAL_SCHEDULES)
            raise ValueError(f"{value!r} is not an interval (use one of: {allowed})")
        return value


@dataclass(frozen=True)
class Tenant:
    """Where one tenant's data comes from and goes to; ``id`` is None for the default tenant."""

    id: str | None = None
    connectwise_conn_id: str = DEFAULT_CONNECTWISE_CONN_ID
    staging_conn_id: str = DEFAULT_STAGING_CONN_ID
    schema: str | None = None  # PostgreSQL schema; on SQLite, the file's suffix
    mapping_file: str | None = None  # None: $CONNECTWISE_MAPPING_FILE or the shipped one
    sync_interval: str | None = None  # None: the Variable or the mapping's setting
    pool_slots: int = DEFAULT_POOL_SLOTS
    queue: str | None = None

    def dag_id(self, base: str) -> str:
        """Return this tenant's id of a DAG: ``base`` itself for the default tenant."""
        return base if self.id is None else f"{base}{DAG_ID_SEPARATOR}{self.id}"

    @property
    def label(self) -> str:
        """How logs and messages name the tenant."""
        return self.id or "default"

    @property
    def tags(self) -> list[str]:
        """The DAG tags: ``connectwise``, and ``tenant:<id>`` for a configured tenant."""
        return ["connectwise"] if self.id is None else ["connectwise", f"tenant:{self.id}"]

    @property
    def pool(self) -> str | None:
        """The tenant's own pool, ``connectwise_api__<id>`` (None: the shared one)."""
        return None if self.id is None else f"connectwise_api{DAG_ID_SEPARATOR}{self.id}"


DEFAULT_TENANT = Tenant()


def tenants_path() -> Path:
    """Return the tenants file: ``$CONNECTWISE_TENANTS_FILE``, else ``include/tenants.yaml``."""
    configured = os.environ.get(TENANTS_ENV, "").strip()
    return Path(configured) if configured else include_dir() / "tenants.yaml"


def configured_tenants(path: Path | None = None) -> list[Tenant] | None:
    """Return every tenant of the tenants file (enabled or not), or None without the file.

    Raises:
        TenantsFileError: the file is unreadable or invalid; one line per problem, each
            naming the item, the key and what is allowed.
    """
    file = path or tenants_path()
    if not file.exists():
        if path is not None or os.environ.get(TENANTS_ENV, "").strip():
            raise TenantsFileError(f"{file}: the tenants file does not exist.")
        return None
    specs, enabled = _read(file)
    return [_tenant(spec, file) for spec in specs if spec.id in enabled]


def dag_tenants(path: Path | None = None) -> list[Tenant]:
    """Return the tenants to build DAGs for: the enabled ones, else the default tenant.

    A task's process parses its DAG file only to find its own task: there (Airflow's parsing
    context names the DAG) only that DAG's tenant is built, so a task's start does not grow
    with the number of tenants.
    """
    tenants = configured_tenants(path)
    if tenants is None:
        return [DEFAULT_TENANT]
    parsing = os.environ.get(PARSING_DAG_ID_ENV, "")
    if DAG_ID_SEPARATOR in parsing:
        wanted = parsing.rsplit(DAG_ID_SEPARATOR, 1)[1]
        return [tenant for tenant in tenants if tenant.id == wanted] or tenants
    return tenants


def tenant_of_dag(dag_id: str, path: Path | None = None) -> Tenant:
    """Return the tenant a DAG belongs to (the default for a DAG id without ``__<id>``).

    Raises:
        TenantsFileError: the DAG names a tenant the file does not have (or disables).
    """
    if DAG_ID_SEPARATOR not in dag_id:
        return DEFAULT_TENANT
    wanted = dag_id.rsplit(DAG_ID_SEPARATOR, 1)[1]
    for tenant in configured_tenants(path) or []:
        if tenant.id == wanted:
            return tenant
    raise TenantsFileError(
        f"DAG {dag_id!r} belongs to tenant {wanted!r}, which {path or tenants_path()} does not "
        "list as enabled; enable it there or pause the DAG."
    )


def current_tenant() -> Tenant:
    """Return the tenant of the running task (the default outside a task: tests, the CLI)."""
    from airflow.sdk import get_current_context

    try:
        dag_id = str(get_current_context()["dag"].dag_id)
    except (RuntimeError, KeyError):
        return DEFAULT_TENANT
    return tenant_of_dag(dag_id)


def _read(file: Path) -> tuple[list[TenantSpec], set[str]]:
    try:
        document = safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TenantsFileError(f"{file}: cannot read the tenants file ({exc.strerror}).") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise TenantsFileError(f"{file}: malformed YAML{where}.") from None
    if not isinstance(document, dict) or not isinstance(document.get("tenants"), list):
        raise TenantsFileError(f"{file}: the top level must be 'tenants:', a list of tenants.")
    specs, problems = _validate(document["tenants"])
    extra = sorted(set(document) - {"tenants"})
    if extra:
        problems.insert(0, f"unknown top-level key {extra[0]!r} (allowed: tenants)")
    if problems:
        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise TenantsFileError(f"{file}: {len(problems)} problem(s):\n{lines}")
    return specs, {spec.id for spec in specs if spec.enabled}


def _validate(items: list[Any]) -> tuple[list[TenantSpec], list[str]]:
    specs: list[TenantSpec] = []
    problems: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    for index, item in enumerate(items):
        where = f"tenants[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be a mapping of {', '.join(_KEYS)}")
            continue
        try:
            spec = TenantSpec.model_validate(item)
        except ValidationError as exc:
            problems.extend(item_problems(where, exc, _KEYS, formats=_FORMATS))
            continue
        for key, value in (("id", spec.id), ("schema", _schema(spec))):
            if (key, value) in seen:
                problems.append(f"{where}: {key} {value!r} repeats {seen[key, value]}")
            seen.setdefault((key, value), where)
        specs.append(spec)
    return specs, problems


_KEYS = [field.alias or name for name, field in TenantSpec.model_fields.items()]
_AIRFLOW_ID = "an Airflow id (letters, digits, _ . -)"
_FORMATS = {
    **{key: _AIRFLOW_ID for key in _KEYS},
    "id": "a slug: lower-case letters, digits and single hyphens, at most 40 characters",
    "schema": "lower-case letters, digits and underscores, starting with a letter",
}


def _schema(spec: TenantSpec) -> str:
    return spec.schema_name or "cw_" + re.sub(r"-", "_", spec.id)


def _tenant(spec: TenantSpec, file: Path) -> Tenant:
    mapping = spec.mapping_file
    if mapping and not Path(mapping).is_absolute():
        mapping = str((file.parent / mapping).resolve())  # relative to the tenants file
    return Tenant(
        id=spec.id,
        connectwise_conn_id=spec.connectwise_conn_id,
        staging_conn_id=spec.staging_conn_id,
        schema=_schema(spec),
        mapping_file=mapping,
        sync_interval=spec.sync_interval,
        pool_slots=spec.pool_slots,
        queue=spec.queue,
    )
