"""Benchmark incremental runs: requests follow the changes, not the size of the tables.

Per scale (small, medium, large): the simulator (a subprocess), an initial sync of every entity
in-process into SQLite staging, then for 0, 50 and 5,000 changed records (updates spread over
contacts 40 %, catalog 30 %, opportunities 20 %, companies 10 %; capped at the records a scale
has, and the actual number is reported) an incremental run of every entity, in-process. The
requests are the simulator's count; per entity, the run history's. Prints and writes
docs/benchmarks.md (section "Incremental sync").

    .venv/bin/python bench/incremental.py [--scales small medium large] [--changes 0 50 5000]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="cw-bench-inc-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

from bench.floor import entities_read  # noqa: E402
from bench.report import add_output_options, publish  # noqa: E402
from scripts.live_airflow import simulator_connection  # noqa: E402

SHARES = {
    "company/contacts": 0.4,
    "procurement/catalog": 0.3,
    "sales/opportunities": 0.2,
    "company/companies": 0.1,
}
TARGET_PER_ENTITY = 2


@dataclass
class Step:
    """One incremental run of every entity."""

    asked: int
    changed: int
    requests: int
    seconds: float
    per_entity: dict[str, int]


@dataclass
class ScaleRun:
    """A scale's initial sync and its incremental runs."""

    scale: str
    records: int
    initial_requests: int
    initial_seconds: float
    steps: list[Step] = field(default_factory=list)


def sync_every_entity(engine: Any, mode: str, run_id: str) -> tuple[float, dict[str, Any]]:
    """Run every (non-optional) entity in ``mode``; return seconds and figures per entity."""
    from connectwise import jobs

    started = time.monotonic()
    figures = {
        entity.name: jobs.run_sync(
            jobs.open_job(engine=engine), entity.name, mode=mode, run_id=run_id
        )
        for entity in entities_read()
    }
    return time.monotonic() - started, figures


def live_records(sim: Any) -> dict[str, int]:
    """Records a mutation may update, per collection changed by the benchmark."""
    return {path: sum(1 for r in sim.truth(path) if not r.get("deletedFlag")) for path in SHARES}


def apply_changes(sim: Any, asked: int, live: dict[str, int]) -> int:
    """Update ``asked`` records by SHARES, capped per collection; return how many changed."""
    changed = 0
    for path, share in SHARES.items():
        wanted = min(round(asked * share), live[path])
        if wanted:
            changed += len(sim.mutate(path, update=wanted)["updated"])
    return changed


def measure_scale(scale: str, changes: list[int]) -> ScaleRun:
    """Initial sync, then one incremental run per number of changes."""
    from connectwise.staging.database import create_staging_engine

    from simulator.testing import SimulatorProcess

    with SimulatorProcess(scale=scale, seed=2, quiet=True) as sim:
        os.environ["AIRFLOW_CONN_CONNECTWISE_DEFAULT"] = json.dumps(simulator_connection(sim))
        engine = create_staging_engine(f"sqlite:///{tempfile.mkdtemp()}/staging.db")
        sim.reset_stats()
        seconds, figures = sync_every_entity(engine, "full", f"initial-{scale}")
        records = sum(int(f["fetched"]) for f in figures.values())
        run = ScaleRun(scale, records, sim.stats()["requests_total"], seconds)
        print(f"{scale}: initial sync {seconds:.1f} s, {run.initial_requests} requests", flush=True)
        live = live_records(sim)
        for asked in changes:
            changed = apply_changes(sim, asked, live)
            sim.reset_stats()
            seconds, figures = sync_every_entity(engine, "incremental", f"inc-{scale}-{asked}")
            per_entity = {name: int(f["http_requests"]) for name, f in figures.items()}
            step = Step(asked, changed, sim.stats()["requests_total"], seconds, per_entity)
            run.steps.append(step)
            print(
                f"{scale} {changed:>5} changes: {step.requests} requests, {seconds:.1f} s",
                flush=True,
            )
        engine.dispose()
    return run


def changes_label(step: Step) -> str:
    """``50``, or ``5,000 → 580`` when the scale has fewer records than asked."""
    if step.changed == step.asked:
        return f"{step.asked:,}"
    return f"{step.asked:,} → {step.changed:,}"


def render(runs: list[ScaleRun]) -> str:
    """The "Incremental sync" section."""
    asked = [step.asked for step in runs[0].steps]
    head = "| scale | records staged | " + " | ".join(f"{a:,} changes" for a in asked) + " |"
    rule = "|---|---:|" + "---:|" * len(asked)
    requests = [head, rule]
    seconds = [head, rule]
    for run in runs:
        requests.append(
            f"| {run.scale} | {run.records:,} | "
            + " | ".join(f"{s.requests} ({changes_label(s)})" for s in run.steps)
            + " |"
        )
        seconds.append(
            f"| {run.scale} | {run.records:,} | "
            + " | ".join(f"{s.seconds:.1f} s" for s in run.steps)
            + " |"
        )
    return "\n".join(
        [
            "Per scale: an initial sync of every entity in-process into SQLite staging, then "
            "one incremental run of every entity per number of changed records (updates spread "
            "over contacts 40 %, catalog 30 %, opportunities 20 %, companies 10 %; a scale with "
            "fewer records than asked is capped, shown as asked → actual). In-process, 0 ms API "
            f"latency; {len(entities_read())} entities.",
            "",
            "HTTP requests of each incremental run (the simulator's count), with the changes:",
            "",
            *requests,
            "",
            "Wall time of each incremental run:",
            "",
            *seconds,
            "",
            *target_lines(runs),
        ]
    )


def target_lines(runs: list[ScaleRun]) -> list[str]:
    """The most requests a single entity made at 0 changes, and the target."""
    idle = [(run, next((s for s in run.steps if s.asked == 0), None)) for run in runs]
    measured = [(run, step) for run, step in idle if step is not None]
    if not measured:
        return ["Target (0 changes ≤ 2 requests per entity): not measured (no 0-change run)."]
    lines = []
    for run, step in measured:
        name, most = max(step.per_entity.items(), key=lambda item: item[1])
        lines.append(
            f"- {run.scale}: at 0 changes the most requests of a single entity: {most} "
            f"({name}); {step.requests} in all."
        )
    worst = max(max(step.per_entity.values()) for _, step in measured)
    totals = sorted({step.requests for _, step in measured})
    flat = "flat" if len(totals) == 1 else f"NOT flat ({', '.join(map(str, totals))})"
    met = "met" if worst <= TARGET_PER_ENTITY and len(totals) == 1 else "NOT met"
    return [
        f"Target: with 0 changes ≤ {TARGET_PER_ENTITY} requests per entity, flat in table "
        f"size: **{met}** (most of one entity {worst}; totals across scales {flat}).",
        "",
        *lines,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description="Incremental sync cost versus changes")
    parser.add_argument("--scales", nargs="+", default=["small", "medium", "large"])
    parser.add_argument("--changes", nargs="+", type=int, default=[0, 50, 5000])
    add_output_options(parser)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    runs = [measure_scale(scale, args.changes) for scale in args.scales]
    publish(args, "Incremental sync", render(runs))


if __name__ == "__main__":
    main()
