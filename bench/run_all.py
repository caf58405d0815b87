"""Regenerate docs/benchmarks.md (and the README's demo output) with every benchmark, in order.

Runs each script of ``bench/`` as a process of its own, in a fixed order — initial sync, memory
settings, under a real scheduler, incremental, fault run, write-back, callback latency, callback
receiver, simulator serving, tenants, agreement additions — each writing its sections into a
part file; then rewrites docs/benchmarks.md from scratch out of those parts (each section is
stamped with date, commit and machine by ``bench/report.py``). Last, ``scripts/demo.py``
(DEMO_SCALE=medium) runs and its summary replaces the README's quick-start output block (between the
``<!-- demo-output`` markers). Output of every script is shown with elapsed time and kept in
``.bench/run-<time>/``. A script that fails leaves a stamped "failed" note in its place and
the run exits non-zero.

    .venv/bin/python bench/run_all.py                         # everything (under an hour)
    .venv/bin/python bench/run_all.py --only incremental demo    # rerun sections in place
    .venv/bin/python bench/run_all.py --quick --output /tmp/b/benchmarks.md   # check the scripts

``--quick`` runs every script at scale small, once, with short runs, to check the scripts end to
end; it needs ``--output`` and writes the README copy next to it (``--readme`` to choose).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "plugins"), str(ROOT / "scripts")]

from bench.report import DOC, stamp  # noqa: E402
from bench.run_all_document import (  # noqa: E402
    assemble,
    demo_summary,
    read_blocks,
    replace_readme_block,
    sections_of,
)

README = ROOT / "README.md"
TARGET_MINUTES = 75


@dataclass(frozen=True)
class Step:
    """One benchmark script with its arguments for the full and the quick run."""

    name: str
    script: str
    full: tuple[str, ...] = ()
    quick: tuple[str, ...] = ()


STEPS = (
    Step("initial_sync", "bench/initial_sync.py", (), ("--scales", "small", "--repeats", "1")),
    Step(
        "memory_settings",
        "bench/memory_settings.py",
        (),
        ("--scale", "small", "--repeats", "1"),
    ),
    Step(
        "scheduler",
        "bench/scheduler.py",
        (),
        ("--scales", "small", "--executors", "standalone", "--repeats", "1"),
    ),
    Step("incremental", "bench/incremental.py", (), ("--scales", "small")),
    Step(
        "fault_run",
        "bench/fault_run.py",
        (),
        ("--page-size", "50", "--throttle-per-minute", "600"),
    ),
    Step("push", "bench/push.py", (), ("--rows", "20")),
    Step(
        "callback_latency",
        "bench/callback_latency.py",
        (),
        ("--changes", "12", "--cold-samples", "3", "--linger", "3"),
    ),
    Step("receiver", "bench/receiver.py", (), ("--scale", "small", "--deliveries", "100")),
    Step("simulator_serving", "bench/simulator_serving.py", (), ("--scale", "small")),
    Step(
        "tenants",
        "bench/tenants.py",
        (),
        ("--tenants", "1", "2", "--workers", "2", "--repeats", "1"),
    ),
    Step(
        "additions",
        "bench/initial_sync.py",
        ("--additions", "--scales", "medium"),
        ("--additions", "--scales", "small", "--repeats", "1"),
    ),
)
DEMO = "demo"
NAMES = (*(step.name for step in STEPS), DEMO)


class Clock:
    """Elapsed time since the run started, for progress lines."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.monotonic() - self.started

    def say(self, message: str) -> None:
        """Print ``[+MM:SS] message``."""
        print(f"[+{minutes(self.elapsed())}] {message}", flush=True)


def minutes(seconds: float) -> str:
    """``MM:SS`` (or ``H:MM:SS``)."""
    hours, rest = divmod(int(seconds), 3600)
    text = f"{rest // 60:02d}:{rest % 60:02d}"
    return f"{hours}:{text}" if hours else text


def stream(command: list[str], log_path: Path, prefix: str, env: dict[str, str]) -> int:
    """Run ``command``; show its output prefixed and keep it in ``log_path``; return its code."""
    with (
        log_path.open("w") as log,
        subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        ) as process,
    ):
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            print(f"  {prefix} | {line.rstrip()}", flush=True)
    return process.returncode


def run_step(step: Step, quick: bool, workdir: Path, clock: Clock) -> tuple[str, bool]:
    """Run one script into its part file; return its block and whether it succeeded."""
    part = workdir / f"{step.name}.md"
    command = [sys.executable, str(ROOT / step.script), *(step.quick if quick else step.full)]
    clock.say(f"{step.name}: {' '.join([step.script, *command[2:]])}")
    started = time.monotonic()
    code = stream([*command, "--output", str(part)], workdir / f"{step.name}.log", step.name, env())
    took = minutes(time.monotonic() - started)
    block = sections_of(part.read_text()) if part.exists() else ""
    if code == 0 and block:
        clock.say(f"{step.name}: done in {took}")
        return block, True
    clock.say(f"{step.name}: FAILED (exit code {code}) after {took}; log {workdir}")
    if not block:
        block = failure_block(step, code, workdir)
    return block, False


def failure_block(step: Step, code: int, workdir: Path) -> str:
    """What stands in the document for a script that wrote nothing."""
    return (
        f"## {step.name} (failed)\n\n{stamp(step.script)}\n\n"
        f"`{step.script}` exited with code {code} and wrote no figures in this run "
        f"(its output: `{workdir / (step.name + '.log')}`)."
    )


def env() -> dict[str, str]:
    """The scripts' environment: unbuffered output, no mapping override from the caller."""
    variables = dict(os.environ, PYTHONUNBUFFERED="1")
    variables.pop("CONNECTWISE_MAPPING_FILE", None)
    return variables


def run_demo(scale: str, workdir: Path, clock: Clock) -> str | None:
    """Run ``scripts/demo.py`` at ``scale`` and return its summary (None if it failed)."""
    clock.say(f"{DEMO}: scripts/demo.py (DEMO_SCALE={scale})")
    log_path = workdir / f"{DEMO}.log"
    variables = {**env(), "DEMO_SCALE": scale}
    code = stream([sys.executable, str(ROOT / "scripts" / "demo.py")], log_path, DEMO, variables)
    summary = demo_summary(log_path.read_text()) if code == 0 else None
    clock.say(f"{DEMO}: {'done' if summary else f'FAILED (exit code {code})'}")
    return summary


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=NAMES, help="run these; keep the rest")
    parser.add_argument("--quick", action="store_true", help="small, once, short (a check)")
    parser.add_argument("--output", type=Path, help=f"the document (default {DOC})")
    parser.add_argument("--readme", type=Path, help="README to update (default README.md)")
    args = parser.parse_args()
    if args.quick and args.output is None:
        parser.error("--quick writes to --output PATH only (the docs keep the full run)")
    args.output = args.output or DOC
    if args.readme is None:
        args.readme = args.output.parent / "README.md" if args.quick else README
    return args


def main() -> int:
    args = parse_args()
    clock = Clock()
    workdir = ROOT / ".bench" / f"run-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    workdir.mkdir(parents=True)
    wanted = set(args.only or NAMES)
    steps = [step for step in STEPS if step.name in wanted]
    failed: list[str] = []
    if steps:
        blocks = kept_blocks(args)
        for step in steps:
            blocks[step.name], ok = run_step(step, args.quick, workdir, clock)
            if not ok:
                failed.append(step.name)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        order = [step.name for step in STEPS]
        args.output.write_text(assemble(blocks, order, quick=args.quick, demo=demo_scale(args)))
        clock.say(f"wrote {args.output}")
    if DEMO in wanted:
        update_readme(args, workdir, clock, failed)
    clock.say(
        f"total {minutes(clock.elapsed())} (target for the full run: under {TARGET_MINUTES} "
        f"min); logs in {workdir}" + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


def kept_blocks(args: argparse.Namespace) -> dict[str, str]:
    """With ``--only``, the other scripts' blocks of the existing document (else none).

    Raises:
        SystemExit: the existing document has no blocks to keep (not written by this script).
    """
    if not args.only or not args.output.exists():
        return {}
    blocks = read_blocks(args.output.read_text())
    if not blocks:
        raise SystemExit(
            f"{args.output} has no <!-- bench:NAME --> blocks, so --only would drop the rest "
            "of it: run bench/run_all.py without --only once first."
        )
    return blocks


def demo_scale(args: argparse.Namespace) -> str:
    """The demo's DEMO_SCALE: medium, small for ``--quick``."""
    return "small" if args.quick else "medium"


def update_readme(args: argparse.Namespace, workdir: Path, clock: Clock, failed: list) -> None:
    """Replace the README's demo block with the demo's real output."""
    summary = run_demo(demo_scale(args), workdir, clock)
    if summary is None:
        failed.append(DEMO)
        return
    source = args.readme if args.readme.exists() else README  # a --quick copy starts from ours
    text = replace_readme_block(source.read_text(), summary, demo_scale(args))
    args.readme.write_text(text)
    clock.say(f"wrote the demo output into {args.readme}")


if __name__ == "__main__":
    raise SystemExit(main())
