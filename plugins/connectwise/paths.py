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
    return _project_dir("include", INCLUDE_ENV)


def docs_dir() -> Path:
    """Return the ``docs/`` folder the console serves, found like :func:`include_dir`."""
    return _project_dir("docs", DOCS_ENV)


def _project_dir(name: str, env: str) -> Path:
    configured = os.environ.get(env)
    if configured:
        return Path(configured)
    repository = Path(__file__).resolve().parents[2] / name
    if repository.is_dir():
        return repository
    return Path(os.environ.get("AIRFLOW_HOME", "/opt/airflow")) / name
