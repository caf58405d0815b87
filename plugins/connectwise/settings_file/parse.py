"""Validate an ``airflow_settings.yaml`` (Astro CLI format) and convert it for Airflow's CLI.

The file has one root key, ``airflow:``, holding three optional lists: ``connections`` (conn_id,
conn_type, conn_host, conn_schema, conn_login, conn_password, conn_port, conn_extra as a mapping
or a JSON string), ``pools`` (pool_name, pool_slot, pool_description) and ``variables``
(variable_name, variable_value). Astro reads it on ``astro dev start``;
``scripts/apply_settings.py`` validates it here and loads it with the stock ``airflow
connections|pools|variables import`` commands, whose JSON :func:`plan_imports` builds. Items
without any value (the placeholders of Astro's template) are skipped. Errors name the file, the
item, the key and what is allowed, and never echo a value. ``connectwise`` connections, extra
``sqlalchemy_url`` values and the ``connectwise_sync_interval`` Variable also get the checks the
DAGs would otherwise apply only at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from connectwise.config_errors import item_problems
from connectwise.errors import ConnectWiseConfigError, ConnectWiseConnectionError

MASK = "***"
INTERVAL_VARIABLE = "connectwise_sync_interval"
SECTIONS = ("connections", "pools", "variables")
# Mirrors Airflow's DEFAULT_SENSITIVE_FIELDS (secrets_masker), plus this project's client_id;
# importing Airflow to read it would cost seconds for a file check.
# fmt: off
SENSITIVE_NAMES = frozenset({
    "access_key", "access_token", "api_key", "apikey", "auth_header", "authorization", "bearer",
    "connection_string", "dsn", "passphrase", "passwd", "password", "private_key", "proxy",
    "proxies", "secret", "service_account", "service_key", "token", "keyfile_dict",
    "webhook_url", "client_id",
})
# fmt: on


class SettingsFileError(ConnectWiseConfigError):
    """The settings file cannot be read or is invalid; the message says where and why."""


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ConnectionSpec(_Item):
    """One ``connections`` item."""

    conn_id: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[\w.-]+$")]
    conn_type: Annotated[str, Field(min_length=1)]
    conn_host: str | None = None
    conn_schema: str | None = None
    conn_login: str | None = None
    conn_password: SecretStr | None = None
    conn_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    conn_extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("conn_extra", mode="before")
    @classmethod
    def _extra_as_mapping(cls, value: Any) -> Any:
        if value in (None, ""):
            return {}
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"is not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(value, dict):
            raise ValueError("must be a mapping of key: value lines or a JSON object string")
        return value


class PoolSpec(_Item):
    """One ``pools`` item."""

    pool_name: Annotated[str, Field(min_length=1, max_length=256)]
    pool_slot: int
    pool_description: str | None = None

    @field_validator("pool_slot", mode="before")
    @classmethod
    def _positive_whole_number(cls, value: Any) -> Any:
        if type(value) is not int or value < 1:
            raise ValueError(f"must be a positive whole number, e.g. 4 (got {value!r})")
        return value


class VariableSpec(_Item):
    """One ``variables`` item; numbers and booleans are stored as text."""

    variable_name: Annotated[str, Field(min_length=1, max_length=250)]
    variable_value: str

    @field_validator("variable_value", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("has no value (write '' for an empty string)")
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value) if isinstance(value, int | float) else value


@dataclass(frozen=True)
class AirflowSettings:
    """The validated content of one settings file."""

    source: str
    connections: tuple[ConnectionSpec, ...] = ()
    pools: tuple[PoolSpec, ...] = ()
    variables: tuple[VariableSpec, ...] = ()


@dataclass(frozen=True)
class ImportStep:
    """One stock ``airflow ... import`` command and the JSON document it reads."""

    section: str
    file_name: str
    arguments: tuple[str, ...]  # the file path is appended
    document: dict[str, Any]
    failure_markers: tuple[str, ...] = ()  # output of per-item failures, which still exit 0


_MODELS: dict[str, tuple[type[_Item], str]] = {
    "connections": (ConnectionSpec, "conn_id"),
    "pools": (PoolSpec, "pool_name"),
    "variables": (VariableSpec, "variable_name"),
}


def load_settings_file(path: Path) -> AirflowSettings:
    """Read and validate the settings file at ``path``.

    Raises:
        SettingsFileError: the file is missing, unreadable or invalid.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsFileError(f"{path}: cannot read it ({exc.strerror}).") from None
    return parse_settings(text, str(path))


def parse_settings(text: str, source: str) -> AirflowSettings:
    """Validate settings YAML ``text``; ``source`` names it in messages.

    Raises:
        SettingsFileError: every problem found, one ``source: where: what`` line each.
    """
    root = _airflow_root(_load_yaml(text, source), source)
    problems: list[str] = []
    sections: dict[str, tuple[Any, ...]] = {}
    for section in SECTIONS:
        sections[section] = tuple(_validate_section(section, root.get(section), problems))
    if problems:
        raise SettingsFileError("\n".join(f"{source}: {problem}" for problem in problems))
    return AirflowSettings(source=source, **sections)


class _LineDict(dict[str, Any]):
    line = 0  # where the mapping starts (1-based), for error messages


class _StrictLoader(yaml.SafeLoader):
    pass  # a SafeLoader that rejects duplicate keys and builds _LineDict mappings


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> _LineDict:
    mapping = _LineDict()
    mapping.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _load_yaml(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        # Only the problem and its position: str(exc) quotes the line, which may hold a password.
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        raise SettingsFileError(f"{source}: {where}: invalid YAML: {exc.problem}.") from None
    except yaml.YAMLError as exc:
        raise SettingsFileError(f"{source}: invalid YAML: {type(exc).__name__}.") from None


def _airflow_root(document: Any, source: str) -> dict[str, Any]:
    if not isinstance(document, dict) or "airflow" not in document:
        found = (
            "the file is empty"
            if document is None
            else f"found: {', '.join(map(str, document))}"
            if isinstance(document, dict)
            else f"found a {type(document).__name__}, not a mapping"
        )
        raise SettingsFileError(
            f"{source}: missing the root key 'airflow:' ({found}); the file must start with "
            "'airflow:' holding connections:, pools: and variables: lists."
        )
    root = document["airflow"] or {}
    if not isinstance(root, dict):
        raise SettingsFileError(f"{source}: airflow: must be a mapping of {', '.join(SECTIONS)}.")
    for where, keys, allowed in (("", document, ("airflow",)), ("airflow: ", root, SECTIONS)):
        unknown = sorted(str(key) for key in keys if key not in allowed)
        if unknown:
            raise SettingsFileError(
                f"{source}: {where}unknown key(s) {', '.join(unknown)} "
                f"(allowed: {', '.join(allowed)})."
            )
    return root


def _validate_section(section: str, items: Any, problems: list[str]) -> list[Any]:
    model, id_key = _MODELS[section]
    if items is None:
        return []
    if not isinstance(items, list):
        problems.append(f"airflow.{section}: must be a list of items ('- {id_key}: ...').")
        return []
    valid: list[Any] = []
    first_seen: dict[str, str] = {}
    for index, item in enumerate(items):
        line = f" (line {item.line})" if isinstance(item, _LineDict) else ""
        where = f"{section}[{index}]{line}"
        if isinstance(item, dict) and all(value in (None, "") for value in _scalars(item)):
            continue  # an unfilled placeholder, as in Astro's template
        if not isinstance(item, dict):
            problems.append(f"{where}: must be a mapping of {', '.join(model.model_fields)}.")
            continue
        try:
            spec = model.model_validate(item)
        except ValidationError as exc:
            problems.extend(item_problems(where, exc, model.model_fields, end="."))
            continue
        item_id = getattr(spec, id_key)
        if item_id in first_seen:
            problems.append(f"{where}: {id_key} {item_id!r} repeats {first_seen[item_id]}.")
            continue
        first_seen[item_id] = f"{section}[{index}]"
        problems.extend(f"{where}: {item_id}: {problem}" for problem in _meaning_problems(spec))
        valid.append(spec)
    return valid


def _scalars(item: dict[str, Any]) -> list[Any]:
    return [value for value in item.values() if not isinstance(value, dict)]


def _meaning_problems(spec: _Item) -> list[str]:
    from connectwise.mapping.models import SYNC_INTERVAL_SCHEDULES

    if isinstance(spec, ConnectionSpec):
        return _connection_problems(spec)
    is_interval = isinstance(spec, VariableSpec) and spec.variable_name == INTERVAL_VARIABLE
    if is_interval and spec.variable_value not in SYNC_INTERVAL_SCHEDULES:
        allowed = ", ".join(SYNC_INTERVAL_SCHEDULES)
        return [f"{spec.variable_value!r} is not allowed (use one of: {allowed})."]
    return []


def _connection_problems(spec: ConnectionSpec) -> list[str]:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from connectwise.client.site import site_from_connection

    problems = []
    if spec.conn_type == "connectwise":
        password = spec.conn_password.get_secret_value() if spec.conn_password else None
        try:
            site_from_connection(spec.conn_host, spec.conn_login, password, spec.conn_extra)
        except ConnectWiseConnectionError as exc:
            problems.append(str(exc))
    if "sqlalchemy_url" in spec.conn_extra:
        try:
            make_url(str(spec.conn_extra["sqlalchemy_url"]))
        except ArgumentError:
            problems.append(
                "conn_extra.sqlalchemy_url is not a database URL "
                "(e.g. postgresql+psycopg://user:password@host:5432/staging)."
            )
    return problems
