"""An isolated, local Airflow for the demo and the benchmarks: environment and CLI path."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW = str(Path(sys.executable).parent / "airflow")


def airflow_environment(home: Path, **extra: str) -> dict[str, str]:
    """Environment for Airflow commands: its own home (SQLite), no examples, this project."""
    return dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(ROOT / "plugins"),
        AIRFLOW__CORE__SENSITIVE_VAR_CONN_NAMES="client_id",
        CONNECTWISE_INCLUDE_DIR=str(ROOT / "include"),
        **extra,
    )
