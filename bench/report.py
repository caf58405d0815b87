"""Write benchmark sections into docs/benchmarks.md, each stamped with date, commit and machine.

Every bench script ends in :func:`write_section`; ``bench/run_all.py`` runs them all and
rebuilds the document from their sections. Helpers shared by the scripts live here too: the
``--output``/``--no-write`` options, ``median (min–max)`` and nearest-rank percentiles.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
GIT = "git"
# Files bench/run_all.py writes: their own edits do not make the measured code "uncommitted".
GENERATED = ("docs/benchmarks.md", "README.md")
STAMP_PREFIX = "_Written "
HEADER = (
    "# Benchmarks\n\n"
    "Every figure is written by a script in `bench/`; `.venv/bin/python bench/run_all.py` "
    "regenerates the whole file. Each section names its script, date, commit and machine.\n"
)


def commit_label(root: Path = ROOT) -> str:
    """Short sha of HEAD, plus ``+uncommitted changes`` when tracked files differ from it."""
    sha = _git(root, "rev-parse", "--short", "HEAD") or "unknown"
    status = _git(root, "status", "--porcelain", "--untracked-files=no") or ""
    return sha + (" +uncommitted changes" if is_dirty(status) else "")


def is_dirty(porcelain: str) -> bool:
    """True when ``git status --porcelain`` lists a change outside the generated files."""
    changed = [line[3:].split(" -> ")[-1].strip() for line in porcelain.splitlines() if line]
    return any(path not in GENERATED for path in changed)


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            [GIT, "-C", str(root), *args], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()


def machine_label() -> str:
    """Cores, CPU model, RAM, Python and OS of this machine, in one phrase."""
    return (
        f"{os.cpu_count()} cores, {cpu_model()}, {memory_gib():.0f} GiB RAM, "
        f"Python {platform.python_version()}, {os_name()}"
    )


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (the platform's name elsewhere)."""
    text = _read("/proc/cpuinfo")
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return found.group(1).strip() if found else (platform.processor() or platform.machine())


def memory_gib() -> float:
    """Total RAM in GiB from /proc/meminfo (0 where it is unknown)."""
    found = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo"), re.M)
    return int(found.group(1)) / 1024**2 if found else 0.0


def os_name() -> str:
    """The distribution's pretty name and the kernel release."""
    found = re.search(r'^PRETTY_NAME="?([^"\n]+)"?', _read("/etc/os-release"), re.M)
    name = found.group(1) if found else platform.system()
    return f"{name}, {platform.system()} {platform.release()}"


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def script_name() -> str:
    """The running script relative to the repository, e.g. ``bench/incremental.py``."""
    main = Path(getattr(sys.modules["__main__"], "__file__", "") or "bench/unknown").resolve()
    try:
        return main.relative_to(ROOT).as_posix()
    except ValueError:
        return main.name


def stamp(script: str, now: datetime | None = None) -> str:
    """The line that opens every section: when, by what, at which commit, on which machine."""
    moment = now or datetime.now(UTC)
    return (
        f"{STAMP_PREFIX}{moment:%Y-%m-%d %H:%M} UTC by `{script}` at commit "
        f"`{commit_label()}`; machine: {machine_label()}._"
    )


def write_section(
    title: str, body: str, *, output: Path | None = None, script: str | None = None
) -> None:
    """Replace (or append) the stamped ``## title`` section of ``output`` (docs/benchmarks.md)."""
    path = output or DOC
    text = path.read_text() if path.exists() else HEADER
    section = f"## {title}\n\n{stamp(script or script_name())}\n\n{body.strip()}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(replace_section(text, title, section))


def replace_section(text: str, title: str, section: str) -> str:
    """``text`` with its ``## title`` section (up to the next heading or marker) replaced."""
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |^<!-- |\Z)", re.S | re.M)
    if pattern.search(text):
        return pattern.sub(lambda _match: section + "\n", text, count=1).rstrip() + "\n"
    return text.rstrip() + "\n\n" + section


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--output PATH`` (default docs/benchmarks.md) and ``--no-write`` (print only)."""
    parser.add_argument(
        "--output", type=Path, default=DOC, help="markdown file to write the section into"
    )
    parser.add_argument("--no-write", action="store_true", help="print only")


def publish(args: argparse.Namespace, title: str, body: str) -> None:
    """Print a section and, unless ``--no-write``, write it to ``--output``."""
    print(f"\n## {title}\n\n{body.strip()}\n", flush=True)
    if not args.no_write:
        write_section(title, body, output=args.output)


def spread(values: list[float], digits: int = 1, unit: str = "", *, grouped: bool = False) -> str:
    """``median (min–max)`` of ``values``; one value when they are all the same."""
    if not values:
        return "–"
    spec = f"{',' if grouped else ''}.{digits}f"
    low, mid, high = (
        format(v, spec) for v in (min(values), statistics.median(values), max(values))
    )
    if low == high:
        return f"{mid}{unit}"
    return f"{mid}{unit} ({low}–{high}{unit})"


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.4999)))
    return ordered[rank - 1]
