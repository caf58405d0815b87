"""Where the project's non-Python files live (mappings, SQL migrations, docs)."""

from __future__ import annotations

import os
from pathlib import Path

INCLUDE_ENV = "CONNECTWISE_INCLUDE_DIR"
DOCS_ENV = "CONNECTWISE_DOCS_DIR"


def include_dir() -> Path:
    """Return the ``include/`` folder.

    ``$CONNECTWISE_INCLUDE_DIR`` if set, else the repository's, else ``$AIRFLOW_HOME/include``
    (the official image's layout, where the package is installed).
    """
    configured = os.environ.get(INCLUDE_ENV)
    if configured:
        return Path(configured)
    repository = Path(__file__).resolve().parents[2] / "include"
    if repository.is_dir():
        return repository
    return Path(os.environ.get("AIRFLOW_HOME", "/opt/airflow")) / "include"


def docs_dir() -> Path:
    """Return the ``docs/`` folder the console serves, found like :func:`include_dir`."""
    configured = os.environ.get(DOCS_ENV)
    if configured:
        return Path(configured)
    repository = Path(__file__).resolve().parents[2] / "docs"
    if repository.is_dir():
        return repository
    return Path(os.environ.get("AIRFLOW_HOME", "/opt/airflow")) / "docs"
