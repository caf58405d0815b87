"""Validate an ``airflow_settings.yaml`` and load it into Airflow, without the Astro CLI.

Usage::

    python scripts/apply_settings.py [airflow_settings.yaml] [--dry-run] [--airflow PATH]

The file (default: ``airflow_settings.yaml`` in the current directory) is in the Astro CLI
format: ``airflow:`` with ``connections:``, ``pools:`` and ``variables:`` lists. It is validated
first (see ``connectwise.settings_file``); then its sections are written to temporary JSON files
and loaded with the stock ``airflow connections import --overwrite``, ``airflow pools import``
and ``airflow variables import -a skip`` into the Airflow that the environment configures
(``AIRFLOW_HOME``, ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN``, ...). Existing connections and
pools with the same ids are replaced; existing Variables are kept (operators change them in the
UI); others are left alone. With a tenants file (``include/tenants.yaml`` or
``$CONNECTWISE_TENANTS_FILE``) each tenant also gets its pool, ``connectwise_api__<tenant>``
with its ``pool_slots``. ``--dry-run`` validates and prints the commands and
documents with secrets shown as ``***``; it needs no Airflow. Exit status: 0 on success, 1 when
the file is invalid or a command fails (the message says which and why), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

try:
    from connectwise import settings_file
except ImportError:  # run from a checkout without the distribution installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
    from connectwise import settings_file
from connectwise.tenants import TenantsFileError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="apply_settings.py", description=__doc__.split("\n\n", 1)[0]
    )
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=Path("airflow_settings.yaml"),
        help="the settings file (default: ./airflow_settings.yaml)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="validate and show what would be imported; change nothing",
    )
    parser.add_argument(
        "--airflow",
        default=None,
        help="the airflow executable (default: the one beside this Python, else the first on PATH)",
    )
    return parser.parse_args(argv)


def find_airflow(configured: str | None) -> str:
    """Return the ``airflow`` executable to run.

    Raises:
        settings_file.SettingsFileError: none is found.
    """
    beside_python = Path(sys.executable).parent / "airflow"
    candidate = configured or (str(beside_python) if beside_python.exists() else None)
    found = shutil.which(candidate or "airflow")
    if found is None:
        raise settings_file.SettingsFileError(
            f"Cannot find the airflow executable ({candidate or 'airflow on PATH'}); "
            "pass --airflow /path/to/airflow."
        )
    return found


def run_step(airflow: str, step: settings_file.ImportStep, folder: Path, secrets: set[str]) -> None:
    """Write ``step``'s document to ``folder`` and run its import command.

    Raises:
        settings_file.SettingsFileError: the command failed or reported a failed item.
    """
    path = folder / step.file_name
    path.touch(mode=0o600)  # connection passwords are in it
    path.write_text(json.dumps(step.document, indent=2), encoding="utf-8")
    command = [airflow, *step.arguments, str(path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    stdout = settings_file.mask_text(result.stdout, secrets).strip()
    failed = result.returncode != 0 or any(mark in stdout for mark in step.failure_markers)
    if failed:
        stderr = settings_file.mask_text(result.stderr, secrets).strip()
        details = "\n".join(part for part in (stdout, stderr[-2000:]) if part)
        raise settings_file.SettingsFileError(
            f"airflow {' '.join(step.arguments)} failed (exit {result.returncode}):\n{details}"
        )
    print(textwrap.indent(stdout or f"{step.section}: done", "  "))


def main(argv: list[str] | None = None) -> int:
    """Validate the file, then print (``--dry-run``) or run the imports; return the exit code."""
    args = parse_args(argv)
    try:
        settings = settings_file.load_settings_file(args.path)
        steps = settings_file.plan_imports(settings)
        counts = ", ".join(f"{len(step.document)} {step.section[:-1]}(s)" for step in steps)
        print(f"{args.path}: valid ({counts or 'nothing to import'}).")
        if args.dry_run:
            for step in steps:
                print(f"Would run: airflow {' '.join(step.arguments)} <tmp>/{step.file_name}")
                print(json.dumps(settings_file.masked_document(step), indent=2))
            return 0
        airflow = find_airflow(args.airflow) if steps else ""
        secrets = settings_file.secret_values(settings)
        with tempfile.TemporaryDirectory(prefix="airflow-settings-") as folder:
            for step in steps:
                print(f"Running: airflow {' '.join(step.arguments)} {step.file_name}")
                run_step(airflow, step, Path(folder), secrets)
    except (settings_file.SettingsFileError, TenantsFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
