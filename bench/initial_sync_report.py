"""The "Initial sync" and "Optional: agreement additions" sections of docs/benchmarks.md.

``bench/initial_sync.py`` measures; this turns its results into tables and states each target
of issue #13 with the measured value and a verdict (met / NOT met / not measured).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from connectwise.client.site import ConnectWiseSite

from bench.report import spread

if TYPE_CHECKING:
    from bench.floor import Floor
    from scripts.demo import SyncFigures

TARGET_TASK_RATIO = {"sqlite": 2.5, "postgres": 3.0}
TARGET_WALL_SQLITE = 25.0
TARGET_MEMORY_RATIO = 1.3
PER_ENTITY_ALLOWANCE = 2
STAGING_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


@dataclass
class DagRun:
    """One ``airflow dags test`` run and the floor pass timed just before it."""

    wall: float
    figures: SyncFigures
    requests: int
    rss_mb: float
    floor_seconds: float
    additions: dict[str, float] = field(default_factory=dict)

    @property
    def task_ratio(self) -> float:
        """Seconds inside the sync tasks ÷ the floor pass."""
        return self.figures.task_seconds / self.floor_seconds


@dataclass
class ScaleResult:
    """Everything measured at one scale."""

    scale: str
    entities: int
    floor: Floor | None = None
    runs: dict[str, list[DagRun]] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)  # "traced" and "rss" probe documents


def verdict(value: float | None, limit: float) -> str:
    """``met`` / ``NOT met`` for ``value <= limit``."""
    if value is None:
        return "not measured"
    return "met" if value <= limit else "NOT met"


def median_of(runs: list[DagRun], value: Any) -> float | None:
    """Median of ``value(run)`` over the runs (None without runs)."""
    return statistics.median([value(run) for run in runs]) if runs else None


def preflight_requests(result: ScaleResult) -> int | None:
    """Requests the preflight made alone (counted by the memory probe)."""
    traced = result.memory.get("traced")
    return int(traced["preflight_requests"]) if traced else None


def allowance(result: ScaleResult) -> int | None:
    """Floor + 2 requests per entity + the preflight's requests."""
    preflight = preflight_requests(result)
    if result.floor is None or preflight is None:
        return None
    return result.floor.requests + PER_ENTITY_ALLOWANCE * result.entities + preflight


def intro(repeats: int, entities: int) -> list[str]:
    """What is measured, exactly."""
    return [
        "`airflow dags test connectwise_initial_sync` (every task in one process, Airflow's "
        "start-up included, Airflow's default logging), each run in a fresh Airflow home "
        "(`airflow db migrate`, untimed) into fresh staging: an SQLite file, or a PostgreSQL "
        f"database created for the run on 127.0.0.1:5432. {repeats} run(s) per scale and "
        "staging database; median (min–max). Simulator seed 1, 0 ms API latency, warmed by "
        "one uncounted pass of the floor before the first run.",
        "",
        "**Floor**: `bench/floor.py` — one `requests.Session`, keyset pages of 1,000 of every "
        "endpoint the initial sync reads, each body decoded with `response.json()` and "
        "discarded — one timed pass right before each DAG run, on the same simulator.",
        "",
        "**Inside the sync tasks**: the sum of `meta_sync_runs.duration_seconds` over the run's "
        f"rows, one per entity sync task ({entities}), each from the task's run-history start "
        "to its finish (reading, mapping, checks, loading). The preflight, the integrity "
        "check, the summary and Airflow's own cost per task are outside it; the whole run "
        "includes them.",
    ]


def time_table(results: list[ScaleResult]) -> list[str]:
    """Whole run, time inside the tasks, floor and their ratio per scale and staging."""
    lines = [
        "| scale | staging | records | whole run (s) | inside sync tasks (s) | floor (s) "
        "| tasks ÷ floor | peak RSS of `dags test` (MB) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        for kind, runs in result.runs.items():
            lines.append(
                f"| {result.scale} | {STAGING_NAMES[kind]} | {runs[0].figures.records:,} | "
                f"{spread([r.wall for r in runs])} | "
                f"{spread([r.figures.task_seconds for r in runs])} | "
                f"{spread([r.floor_seconds for r in runs], 2)} | "
                f"{spread([r.task_ratio for r in runs], 2, '×')} | "
                f"{spread([r.rss_mb for r in runs], 0)} |"
            )
    return lines


def request_table(results: list[ScaleResult]) -> list[str]:
    """The DAG run's requests beside the floor's, the preflight's and the allowance."""
    lines = [
        "| scale | DAG run | floor | preflight alone | allowance: floor + "
        f"{PER_ENTITY_ALLOWANCE} × entities + preflight | within |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for result in results:
        made = [float(r.requests) for runs in result.runs.values() for r in runs]
        limit, preflight = allowance(result), preflight_requests(result)
        floor = result.floor.requests if result.floor else 0
        within = requests_verdict(made, limit)
        shown = (
            "–"
            if limit is None
            else f"{floor} + {PER_ENTITY_ALLOWANCE} × {result.entities} + {preflight} = {limit}"
        )
        lines.append(
            f"| {result.scale} | {spread(made, 0)} | {floor} | {preflight or '–'} | {shown} "
            f"| {within} |"
        )
    return lines


def requests_verdict(made: list[float], limit: int | None) -> str:
    """Whether the most requests of any run stayed within the allowance."""
    if not made or limit is None:
        return "not measured"
    return verdict(max(made), limit)


def memory_table(results: list[ScaleResult]) -> list[str]:
    """Process RSS of Airflow beside the pipeline's own memory."""
    lines = [
        "| scale | `dags test` peak RSS, SQLite / PostgreSQL (MB) | pipeline: RSS after "
        "imports (MB) | RSS growth after imports (MB) | tracemalloc peak (MB) |",
        "|---|---:|---:|---:|---:|",
    ]
    for result in results:
        rss = " / ".join(
            spread([r.rss_mb for r in result.runs.get(kind, [])], 0) for kind in STAGING_NAMES
        )
        probe, traced = result.memory.get("rss"), result.memory.get("traced")
        if not probe or not traced:
            continue
        lines.append(
            f"| {result.scale} | {rss} | {probe['rss_after_imports_mb']:.0f} | "
            f"{probe['rss_growth_mb']:.1f} | {traced['peak_mb']:.1f} |"
        )
    return lines


def entity_peaks(results: list[ScaleResult]) -> list[str]:
    """Tracemalloc peak per step (preflight, then each entity) and scale."""
    measured = [r for r in results if r.memory.get("traced")]
    if not measured:
        return []
    steps = [step["step"] for step in measured[0].memory["traced"]["steps"]]
    peaks = {
        r.scale: {s["step"]: s["peak_mb"] for s in r.memory["traced"]["steps"]} for r in measured
    }
    lines = [
        "| step | " + " | ".join(f"{r.scale} (MB)" for r in measured) + " |",
        "|---|" + "---:|" * len(measured),
    ]
    for step in steps:
        cells = " | ".join(f"{peaks[r.scale].get(step, 0.0):.1f}" for r in measured)
        lines.append(f"| {step} | {cells} |")
    return lines


def target_line(label: str, value: float | None, shown: str, limit: float, target: str) -> str:
    """``- label: value (target …): **verdict**``."""
    measured = "not measured in this run" if value is None else shown
    return f"- {label}: {measured} (target {target}): **{verdict(value, limit)}**."


def target_lines(results: list[ScaleResult]) -> list[str]:
    """Each target of the issue with the measured median and a verdict."""
    by_scale = {r.scale: r for r in results}
    large = by_scale.get("large")
    lines = []
    for kind, limit in TARGET_TASK_RATIO.items():
        ratio = median_of(large.runs.get(kind, []), lambda r: r.task_ratio) if large else None
        label = f"Large, {STAGING_NAMES[kind]}, inside the sync tasks ÷ floor"
        lines.append(target_line(label, ratio, f"{ratio or 0:.2f}×", limit, f"≤ {limit}×"))
    wall = median_of(large.runs.get("sqlite", []), lambda r: r.wall) if large else None
    lines.append(
        target_line(
            "Large, SQLite, whole `dags test` run",
            wall,
            f"{wall or 0:.1f} s",
            TARGET_WALL_SQLITE,
            f"≤ {TARGET_WALL_SQLITE:.0f} s",
        )
    )
    for result in results:
        made = [float(r.requests) for runs in result.runs.values() for r in runs]
        limit = allowance(result)
        most = max(made) if made and limit is not None else None
        lines.append(
            target_line(
                f"{result.scale.capitalize()}, requests (most of any run)",
                most,
                f"{most or 0:.0f}",
                limit or 0,
                f"≤ floor + {PER_ENTITY_ALLOWANCE}/entity + preflight = {limit}",
            )
        )
    lines.append(memory_target(large, by_scale.get("small"), by_scale.get("medium")))
    return lines


def memory_target(
    large: ScaleResult | None, small: ScaleResult | None, medium: ScaleResult | None = None
) -> str:
    """Pipeline peak large ÷ small, tracemalloc (the target) and RSS growth (for reference)."""
    label = "Pipeline peak memory large ÷ small (tracemalloc)"
    target = f"≤ {TARGET_MEMORY_RATIO}"
    if not (large and small and large.memory and small.memory):
        return target_line(label, None, "", TARGET_MEMORY_RATIO, target)
    traced = large.memory["traced"]["peak_mb"] / small.memory["traced"]["peak_mb"]
    growth = large.memory["rss"]["rss_growth_mb"] / max(small.memory["rss"]["rss_growth_mb"], 0.1)
    line = target_line(label, traced, f"{traced:.2f}", TARGET_MEMORY_RATIO, target)
    line = f"{line[:-1]}; RSS growth after imports large ÷ small {growth:.2f}, for reference."
    if medium and medium.memory.get("traced"):
        versus = large.memory["traced"]["peak_mb"] / medium.memory["traced"]["peak_mb"]
        line += (
            f" Large ÷ medium: {versus:.2f}. What the sync holds in memory does not follow "
            "the table: the part being mapped (100 records or 128 KB of their JSON, decoded, "
            "and their rows) or, "
            "between two parts, the part of a chunk being loaded (SQLite loads a full chunk "
            "inline: the two never overlap), with the values the quality checks need of that "
            "chunk (a few bytes a row); each parallel reader's 32 KB read slice; the id of "
            "each company the contact filter keeps (8 bytes). Pages wait for the sync "
            "spooled to temporary files (one per reader and one more, read through a mapping: "
            "file pages the kernel may drop, in the RSS figures but not the heap), and chunks "
            "of `load_chunk_rows` rows wait in temporary files. Small's largest entity is one "
            "such part, so small shows most of the bound; large adds the readers' slices and "
            'wider records. "Memory settings" below measures the bounds changed, and what '
            "that costs."
        )
    return line


def render(results: list[ScaleResult], repeats: int) -> str:
    """The "Initial sync" section."""
    entities = results[0].entities if results else 0
    preflight = next((p for r in results if (p := preflight_requests(r)) is not None), None)
    lines = [
        *intro(repeats, entities),
        "",
        *time_table(results),
        "",
        "Requests, counted by the simulator. The preflight alone (run in-process on the same "
        f"simulator) makes {preflight if preflight is not None else '–'} requests: its "
        "checklist (codebase discovery, keys, the security modules, the Table Setup entities) "
        "and the look-ups of the names the mapping uses.",
        "",
        *request_table(results),
        "",
        "Memory. The `dags test` process's peak RSS (`wait4`) is mostly Airflow. The pipeline's "
        "own memory comes from `bench/pipeline_memory.py`: in a process of its own, with what a "
        "warm task imports (`connectwise.warm`: Great Expectations, pandas, Airflow's task "
        "runner, the engine) imported first, the preflight and one full sync per entity "
        "in-process into SQLite staging; tracemalloc started after the imports (peak per step "
        "below, overall peak in the table); RSS growth after imports = peak RSS (`VmHWM`) − RSS "
        "after imports, from a second run without tracemalloc.",
        "",
        *memory_table(results),
        "",
        "Tracemalloc peak per step (what earlier steps left allocated is included):",
        "",
        *entity_peaks(results),
        "",
        "Targets (issue #13), on medians:",
        "",
        *target_lines(results),
    ]
    return "\n".join(lines)


def render_additions(results: list[ScaleResult], repeats: int) -> str:
    """The "Optional: agreement additions" section."""
    budget = next(f.default for f in fields(ConnectWiseSite) if f.name == "requests_per_minute")
    lines = [
        "The initial sync with the optional `agreement_additions` section enabled in the "
        "mapping (the shipped mapping with that section uncommented), SQLite staging, "
        f"otherwise measured as in the section above: {repeats} run(s), median (min–max); "
        "the floor reads the additions of every agreement too.",
        "",
        "| scale | records | of which additions | whole run (s) | inside sync tasks (s) "
        "| additions task (s) | its requests | its requests at the budget's rate (s) "
        "| DAG run requests | floor requests | floor (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        runs = result.runs.get("sqlite", [])
        if not runs:
            continue
        lines.append(
            f"| {result.scale} | {runs[0].figures.records:,} | "
            f"{int(runs[0].additions.get('records', 0)):,} | {spread([r.wall for r in runs])} | "
            f"{spread([r.figures.task_seconds for r in runs])} | "
            f"{spread([r.additions.get('seconds', 0.0) for r in runs])} | "
            f"{int(runs[0].additions.get('requests', 0)):,} | "
            f"{runs[0].additions.get('requests', 0) / (budget / 60):.1f} | "
            f"{spread([float(r.requests) for r in runs], 0)} | "
            f"{result.floor.requests if result.floor else '–'} | "
            f"{spread([r.floor_seconds for r in runs], 2)} |"
        )
    lines += [
        "",
        "Additions are read per agreement: one request each, so their requests grow with the "
        "agreements, not with pages of 1,000. The hook's default request budget "
        f"({budget} a minute, {budget / 60:.0f} a second after a short burst; ConnectWise "
        "throttles at about 1,000) paces each task's requests, so with thousands of "
        "agreements the budget, not the pipeline, sets the additions' time. This is why the "
        "entity is opt-in; `requests_per_minute` and `max_parallel_requests` in the "
        "connection's extra trade speed against throttling.",
    ]
    return "\n".join(lines)
