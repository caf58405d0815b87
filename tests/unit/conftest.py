"""Fixtures shared by the unit tests: the shipped mapping and edited copies of it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from connectwise.mapping.load import Mapping, load_mapping

SHIPPED_MAPPING = Path(__file__).resolve().parents[2] / "include" / "mappings" / "connectwise.yaml"


@pytest.fixture(scope="session")
def shipped_document() -> dict[str, Any]:
    """The shipped mapping file parsed as plain YAML (do not mutate; use mapping_document)."""
    return yaml.safe_load(SHIPPED_MAPPING.read_text(encoding="utf-8"))


@pytest.fixture
def mapping_document(shipped_document: dict[str, Any]) -> dict[str, Any]:
    """A private copy of the shipped mapping's content, for a test to edit."""
    return copy.deepcopy(shipped_document)


@pytest.fixture(scope="session")
def shipped_mapping() -> Mapping:
    """The shipped mapping, loaded and validated."""
    return load_mapping(SHIPPED_MAPPING)


@pytest.fixture
def write_mapping(tmp_path: Path) -> Callable[..., Path]:
    """Write a mapping document (or raw text) to a file under ``tmp_path``; return its path."""

    def write(content: dict[str, Any] | str, name: str = "mapping.yaml") -> Path:
        path = tmp_path / name
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    return write
