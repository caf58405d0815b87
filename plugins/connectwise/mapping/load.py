"""Load and validate a mapping file; errors name the file, the key and the allowed values."""

from __future__ import annotations

import hashlib
import json
import os
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from connectwise.entities import REGISTRY, Entity, Registry
from connectwise.errors import ConnectWiseMappingError
from connectwise.mapping.models import MappingConfig
from connectwise.paths import include_dir
from connectwise.staging.history import MappingVersion
from connectwise.staging.schema import TableSpec
from connectwise.yaml_load import safe_load

MAPPING_ENV = "CONNECTWISE_MAPPING_FILE"


@dataclass(frozen=True)
class Mapping:
    """A validated mapping file and the version its rows are stamped with."""

    config: MappingConfig
    path: Path
    version: str

    def is_enabled(self, entity_name: str) -> bool:
        """Tell whether the mapping has a section for the entity (optional ones may lack it)."""
        return entity_name in self.config.entities

    def syncs(self, entity: Entity) -> bool:
        """Tell whether the entity is synced: the one place that decides it."""
        return self.is_enabled(entity.mapping_section)

    def fields_of(self, entity_name: str) -> dict[str, Any]:
        """Return the column → FieldSpec map of one entity."""
        return dict(self.config.entities[entity_name].fields)

    def version_record(self) -> MappingVersion:
        """Return what the run history keeps of this mapping (``meta_mapping_versions``)."""
        content = json.dumps(self.config.model_dump(mode="json"), sort_keys=True)
        return MappingVersion(self.version, self.config.version_label, str(self.path), content)

    def table_specs(self, registry: Registry = REGISTRY) -> list[TableSpec]:
        """Return every entity's staging table: its mapped columns (none while disabled)."""
        return [
            TableSpec(
                entity=entity.name,
                table=entity.staging_table,
                columns=(
                    {
                        name: spec.type
                        for name, spec in self.fields_of(entity.mapping_section).items()
                    }
                    if self.syncs(entity)
                    else {}
                ),
                indexed=_parent_columns(entity),
            )
            for entity in registry
        ]


def _parent_columns(entity: Entity) -> tuple[str, ...]:
    if entity.parent is None:
        return ()
    return tuple(ref.column for ref in entity.references if ref.entity == entity.parent.entity)


def default_mapping_path() -> Path:
    """Return the mapping file in use: ``$CONNECTWISE_MAPPING_FILE`` or the shipped example."""
    configured = os.environ.get(MAPPING_ENV)
    if configured:
        return Path(configured)
    return include_dir() / "mappings" / "connectwise.yaml"


def load_mapping(path: Path | str | None = None, registry: Registry = REGISTRY) -> Mapping:
    """Read, validate and version a mapping file.

    Raises:
        ConnectWiseMappingError: the file is missing, is not YAML, or breaks a rule; the message
            names the file, the key and the allowed values, one line per problem.
    """
    file = Path(path) if path else default_mapping_path()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConnectWiseMappingError(
            f"{file}: cannot read the mapping file ({exc.strerror}). Set {MAPPING_ENV} or "
            "create it from include/mappings/connectwise.yaml."
        ) from None
    try:
        document = safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConnectWiseMappingError(f"{file}: malformed YAML{where}: {problem}.") from None
    if not isinstance(document, dict):
        raise ConnectWiseMappingError(
            f"{file}: the top level must be a mapping of keys (version_label, settings, "
            f"entities, ...), not {type(document).__name__}."
        )
    try:
        config = MappingConfig.model_validate(document)
    except ValidationError as exc:
        problems = [_describe(error) for error in exc.errors()]
        raise ConnectWiseMappingError(_report(file, problems)) from None
    problems = _check_entities(config, registry)
    if problems:
        raise ConnectWiseMappingError(_report(file, problems))
    return Mapping(config=config, path=file, version=mapping_version(config))


def mapping_version(config: MappingConfig) -> str:
    """Return ``label@hash``: the content hash changes whenever the mapping's meaning does."""
    canonical = json.dumps(config.model_dump(mode="json"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:12]
    return f"{config.version_label}@{digest}" if config.version_label else digest


def _report(file: Path, problems: list[str]) -> str:
    if len(problems) == 1:
        return f"{file}: {problems[0]}"
    lines = "\n".join(f"  - {problem}" for problem in problems)
    return f"{file}: {len(problems)} problems:\n{lines}"


def _check_entities(config: MappingConfig, registry: Registry) -> list[str]:
    problems = []
    known = set(registry.entities)
    for name in sorted(set(config.entities) - known):
        problems.append(
            f"entities[{name!r}]: unknown entity (allowed: {', '.join(registry.names())})"
        )
    for entity in registry:
        section = config.entities.get(entity.mapping_section)
        if section is None:
            if not entity.optional:
                problems.append(f"entities: missing section {entity.mapping_section!r}")
            continue
        missing = [column for column in entity.required_columns if column not in section.fields]
        for column in missing:
            problems.append(
                f"entities[{entity.name!r}].fields: missing column {column!r} "
                "(quality checks, views and write-back rely on it)"
            )
    return problems


def _describe(error: Any) -> str:
    location = _location(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(error["loc"][:-1])
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return f"{location}: unknown key{hint}"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        allowed = expected.replace("'", "")
        return f"{location}: {error['input']!r} is not allowed (use one of: {allowed})"
    if kind == "missing":
        return f"{location}: required key is missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{location}: {message}"


def _location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if part == "[key]":  # pydantic marks an invalid dict key this way
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        elif text and _is_dict_key(text):
            text += f"[{part!r}]"
        else:
            text += f".{part}" if text else str(part)
    # Pydantic adds the union branch or the literal as a pseudo-key; drop it.
    for noise in (".list[str]", ".literal['all']", "[\"literal['all']\"]"):
        text = text.replace(noise, "")
    return text or "(top level)"


_DICT_KEYS = {
    "opportunity_status_map",
    "sales_stage_map",
    "product_status_map",
    "category_map",
    "product_type_map",
    "product_terms_map",
    "quote_status_map",
    "agreement_type_map",
    "entities",
    "fields",
}


def _is_dict_key(prefix: str) -> bool:
    last = prefix.rsplit(".", 1)[-1].split("[", 1)[0]
    return last in _DICT_KEYS and not prefix.endswith("]")


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """Walk the model classes along ``loc`` to list the keys allowed at that place."""
    model: Any = MappingConfig
    for part in loc:
        if isinstance(model, type) and issubclass(model, BaseModel):
            field = model.model_fields.get(str(part))
            model = field.annotation if field else None
        elif typing.get_origin(model) is dict:
            model = typing.get_args(model)[1]
        else:
            return []
        model = _unwrap(model)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    if typing.get_origin(annotation) is typing.Annotated:
        return typing.get_args(annotation)[0]
    return annotation
