"""A long fault run: the initial sync against a simulator throttling to 60 requests/minute,
with 10% 5xx answers and 5% truncated bodies, then a record-by-record comparison with the truth.

    .venv/bin/python bench/fault_run.py [--scale small] [--page-size 10]
        [--throttle-per-minute 60]

In-process (preflight, then every entity), 10 records per page so the throttle really bites.
Prints duration, requests, retries and throttling, and writes them to docs/benchmarks.md
(section "Fault run"). Exits non-zero if staging differs from the simulator's truth.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="cw-fault-run-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

from bench.floor import entities_read  # noqa: E402
from bench.report import add_output_options, publish  # noqa: E402
from scripts.live_airflow import simulator_connection  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description="Initial sync under throttling and faults")
    parser.add_argument("--scale", default="small")
    parser.add_argument("--page-size", type=int, default=10)
    parser.add_argument("--throttle-per-minute", type=int, default=60)
    add_output_options(parser)
    args = parser.parse_args()

    import sqlalchemy as sa
    from connectwise import jobs
    from connectwise.staging.database import create_staging_engine

    from simulator.testing import SimulatorProcess
    from tests.support import assert_matches_truth

    faults = [
        "--throttle-per-minute",
        str(args.throttle_per_minute),
        "--retry-after-seconds",
        "30",
        "--error-rate",
        "0.1",
        "--truncate-rate",
        "0.05",
    ]
    with SimulatorProcess(scale=args.scale, seed=4, extra_args=faults) as sim:
        os.environ["AIRFLOW_CONN_CONNECTWISE_DEFAULT"] = json.dumps(
            # many small pages, so the throttle really bites
            simulator_connection(sim, max_retries=20, page_size=args.page_size)
        )
        engine = create_staging_engine(f"sqlite:///{tempfile.mkdtemp()}/staging.db")
        started = time.monotonic()
        jobs.run_preflight(jobs.open_job(engine=engine))
        for entity in entities_read():
            jobs.run_sync(jobs.open_job(engine=engine), entity.name, mode="full", run_id="fault")
        elapsed = time.monotonic() - started
        stats = sim.stats()
        sim.set_faults(throttle_per_minute=None, error_rate=0.0, truncate_rate=0.0)
        assert_matches_truth(engine, sim, {"customer", "prospect", "suspect"})
    with engine.connect() as connection:
        fetched, retries, throttled = connection.execute(
            sa.text("SELECT SUM(fetched), SUM(retries), SUM(throttled) FROM meta_sync_runs")
        ).one()
    text = (
        f"Scale {args.scale}, simulator throttling to {args.throttle_per_minute} requests per "
        "minute (then 429 with Retry-After: 30, as in ConnectWise's own example), 10% 5xx "
        "answers and 5% truncated JSON bodies. The initial sync "
        f"(preflight + {len(entities_read())} entities, in-process, {args.page_size} records "
        "per page) took "
        f"{elapsed:.0f} s for "
        f"{int(fetched)} records and {stats['requests_total']} requests: "
        f"{stats['throttled']} answered 429, {stats['faults']['5xx']} 5xx and "
        f"{stats['faults']['truncated']} truncated; the run history records {int(retries)} "
        f"retries of sync requests ({int(throttled)} throttled). Staging equals the "
        "simulator's truth record by record afterwards."
    )
    publish(args, "Fault run", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
