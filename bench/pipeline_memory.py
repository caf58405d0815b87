"""The pipeline's own memory during an initial sync, in a process of its own.

``airflow dags test`` peaks around 450 MB, most of it Airflow itself; this measures what the
pipeline adds. It imports what a warm task has imported (``connectwise.warm``: Great
Expectations, pandas, Airflow's task runner, the sync engine), then — like the DAG's tasks,
in-process — runs the preflight and one full sync per entity into fresh staging. With
``--tracemalloc``, tracing starts after the imports and the peak of Python allocations is taken
per entity (``tracemalloc.reset_peak`` before each); without it, the process's RSS growth after
the imports (peak RSS, ``VmHWM``, minus RSS after imports) — measured in a separate run, since
tracemalloc's own bookkeeping would inflate it. Prints one JSON document on its last line.

``bench/initial_sync.py`` runs it; by hand (the connection as ``AIRFLOW_CONN_*``):

    AIRFLOW_CONN_CONNECTWISE_DEFAULT='{...}' .venv/bin/python bench/pipeline_memory.py \
        --simulator http://127.0.0.1:PORT --staging-url sqlite:////tmp/s.db [--tracemalloc]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="cw-bench-memory-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

MB = 1024 * 1024


def status_kb(field: str) -> int:
    """A ``/proc/self/status`` figure in kB (``VmRSS``, ``VmHWM``)."""
    text = Path("/proc/self/status").read_text()
    found = re.search(rf"^{field}:\s*(\d+) kB", text, re.M)
    return int(found.group(1)) if found else 0


def simulator_handle(base_url: str) -> Any:
    """A control-API handle of the simulator at ``base_url`` (stats only)."""
    from simulator.testing import SimulatorHandle

    handle = SimulatorHandle(int(base_url.rsplit(":", 1)[1]))
    handle.refresh_auth()
    return handle


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Preflight and one full sync per entity; memory and requests of each step."""
    import connectwise.warm  # noqa: F401 - the imports every warm task starts with
    from connectwise import jobs
    from connectwise.staging.database import create_staging_engine

    from bench.floor import entities_read

    sim = simulator_handle(args.simulator)
    rss_after_imports = status_kb("VmRSS")
    if args.tracemalloc:
        tracemalloc.start()
    engine = create_staging_engine(args.staging_url)
    sim.reset_stats()
    jobs.run_preflight(jobs.open_job(engine=engine), "memory")
    preflight = sim.stats()
    steps = [
        {"step": "preflight", "peak_mb": traced_peak(), "requests": preflight["requests_total"]}
    ]
    for entity in entities_read(args.optional):
        if args.tracemalloc:
            tracemalloc.reset_peak()
        started = time.perf_counter()
        figures = jobs.run_sync(
            jobs.open_job(engine=engine), entity.name, mode="full", run_id="memory"
        )
        steps.append(
            {
                "step": entity.name,
                "peak_mb": traced_peak(),
                "seconds": time.perf_counter() - started,
                "requests": figures.get("http_requests"),
                "fetched": figures.get("fetched"),
            }
        )
    return {
        "tracemalloc": args.tracemalloc,
        "rss_after_imports_mb": rss_after_imports / 1024,
        "rss_growth_mb": (status_kb("VmHWM") - rss_after_imports) / 1024,
        "peak_mb": max((s["peak_mb"] or 0.0) for s in steps) if args.tracemalloc else None,
        "preflight_requests": preflight["requests_total"],
        "preflight_by_endpoint": preflight["by_endpoint"],
        "steps": steps,
    }


def traced_peak() -> float | None:
    """Peak traced MB since the last reset (None when tracemalloc is off)."""
    if not tracemalloc.is_tracing():
        return None
    return tracemalloc.get_traced_memory()[1] / MB


def main() -> None:
    parser = argparse.ArgumentParser(description="The pipeline's own memory in an initial sync")
    parser.add_argument("--simulator", required=True, help="simulator base URL (for its stats)")
    parser.add_argument("--staging-url", required=True)
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--optional", nargs="*", default=[], help="optional entities enabled")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    print(json.dumps(measure(args)), flush=True)


if __name__ == "__main__":
    main()
