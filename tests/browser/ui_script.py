"""Run one of this folder's node + playwright-core scripts and read the RESULT line it prints.

Each script takes one JSON config argument, prints ``step: ...`` progress lines and, last, one
``RESULT {json}`` line (also when it fails). Chromium runs in a session of its own with a
profile folder only this run uses, so the janitor stops all of it, whatever happens.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.janitor import Janitor

BROWSER_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class UiRun:
    """What a script reported: its exit code, its RESULT object and its output."""

    returncode: int
    result: dict[str, Any]
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        """True when the script exited 0 and said ``ok``."""
        return self.returncode == 0 and bool(self.result.get("ok"))

    def failure(self) -> str:
        """Why the run failed, for a test's failure message."""
        return (
            f"exit {self.returncode}: {self.result.get('error') or self.stderr[-3000:]}\n"
            f"steps: {self.result.get('steps')}"
        )


def run_ui_script(
    script: str,
    config: dict[str, Any],
    *,
    browser_tools: dict[str, str],
    janitor: Janitor,
    work: Path,
    timeout: float,
) -> UiRun:
    """Run ``node <script> <config>`` with Chromium's paths added to ``config``.

    A run that outlives ``timeout`` seconds is stopped and reported like any failed run.
    """
    user_data_dir = work / "chromium-profile"
    user_data_dir.mkdir()
    config = {**config, "chromium": browser_tools["chromium"], "userDataDir": str(user_data_dir)}
    janitor.track("browser", needle=str(user_data_dir))
    env = {**os.environ, **janitor.env("browser"), "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"}
    process = subprocess.Popen(
        [browser_tools["node"], str(BROWSER_DIR / script), json.dumps(config)],
        cwd=BROWSER_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    janitor.track("browser", session=process.pid)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        janitor.stop("browser", grace=5)
        stdout, stderr = process.communicate()
    finally:
        janitor.stop("browser", grace=5)
    print(stdout)  # the step lines with timings, shown by pytest on failure or with -s
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    result = json.loads(lines[-1].removeprefix("RESULT ")) if lines else {}
    return UiRun(process.returncode, result, stdout, stderr)
