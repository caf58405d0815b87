"""Benchmark the callback receiver's answer time and the inbox drain's throughput.

ConnectWise gives a delivery 5 s and retries only twice, so the receiver must answer fast
however many arrive. This starts the standalone receiver (``python -m connectwise.callbacks``)
against a simulator (scale medium, for its signing key and records) and a staging database,
posts signed deliveries one at a time and then from parallel senders, and reports answer-time
percentiles; then it applies the inbox with ``process.drain`` and reports deliveries per second.
Prints and writes docs/benchmarks.md (sections "Callback receiver (sqlite)" and
"(postgres)"; PostgreSQL staging in a database of its own, dropped afterwards).

    .venv/bin/python bench/receiver.py [--deliveries 1000] [--senders 8] [--scale medium]
        [--staging sqlite postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="cw-bench-receiver-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

import httpx  # noqa: E402

from bench.postgres import fresh_staging  # noqa: E402
from bench.report import add_output_options, publish  # noqa: E402
from scripts.live_airflow import simulator_connection  # noqa: E402


def signed_deliveries(sim, count: int) -> list[bytes]:
    """``count`` contact updates shaped like ConnectWise's deliveries (API facts §9)."""
    contacts = sim.truth("company/contacts")
    bodies = []
    for index in range(count):
        record = dict(contacts[index % len(contacts)])
        record["title"] = f"bench {index}"
        record["_info"] = {**record.get("_info", {}), "lastUpdated": "2031-01-01T00:00:00Z"}
        bodies.append(
            json.dumps(
                {
                    "Action": "updated",
                    "CallbackObjectRecId": 1,
                    "CompanyId": sim.company_id,
                    "Entity": json.dumps(record),
                    "FromUrl": sim.host,
                    "ID": record["id"],
                    "MemberId": "bench",
                    "MessageId": str(uuid.uuid4()),
                    "Metadata": {"key_url": sim.sim.key_url()},
                    "Type": "contact",
                }
            ).encode()
        )
    return bodies


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick = lambda share: ordered[min(len(ordered) - 1, int(share * len(ordered)))]  # noqa: E731
    return {"p50": pick(0.5), "p95": pick(0.95), "p99": pick(0.99), "max": ordered[-1]}


def post_all(url: str, bodies: list[bytes], key: str, senders: int) -> tuple[list[float], float]:
    from tests.callback_support import sign

    def send(chunk: list[bytes]) -> list[float]:
        timings = []
        with httpx.Client(timeout=10) as client:
            for body in chunk:
                started = time.perf_counter()
                response = client.post(
                    url, content=body, headers={"x-content-signature": sign(body, key)}
                )
                timings.append(time.perf_counter() - started)
                if response.json().get("status") != "accepted":
                    raise RuntimeError(f"delivery refused: {response.status_code} {response.text}")
        return timings

    chunks = [bodies[index::senders] for index in range(senders)]
    started = time.perf_counter()
    with ThreadPoolExecutor(senders) as pool:
        timings = [t for result in pool.map(send, chunks) for t in result]
    return timings, time.perf_counter() - started


@contextmanager
def running_receiver(port: int, work: Path) -> Iterator[str]:
    """``python -m connectwise.callbacks`` on ``port``; yield its base URL once healthy."""
    base = f"http://127.0.0.1:{port}/connectwise"
    env = {
        **os.environ,
        "CONNECTWISE_RECEIVER_PORT": str(port),
        "CONNECTWISE_RECEIVER_HOST": "127.0.0.1",
        "CONNECTWISE_INCLUDE_DIR": str(ROOT / "include"),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "plugins"), str(ROOT)]),
    }
    with (work / "receiver.log").open("wb") as log:
        receiver = subprocess.Popen(
            [sys.executable, "-m", "connectwise.callbacks"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_healthy(base, receiver)
            yield base
        finally:
            os.killpg(receiver.pid, signal.SIGTERM)
            receiver.wait(timeout=20)


def wait_healthy(base: str, receiver: subprocess.Popen[bytes]) -> None:
    """Wait until the receiver answers ``/health`` (60 s at most)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or receiver.poll() is not None:
            raise RuntimeError("the receiver did not start")
        time.sleep(0.2)


def measure(args: argparse.Namespace, kind: str) -> str:
    """Initial sync, deliveries one at a time and in parallel, then the drain; the section."""
    from connectwise import jobs
    from connectwise.callbacks import install, process
    from connectwise.staging.database import create_staging_engine

    from bench.floor import entities_read
    from simulator.testing import free_port, running_simulator

    work = Path(tempfile.mkdtemp(prefix="cw-bench-receiver-"))
    port = free_port()
    with (
        fresh_staging(kind, work, "cw_bench_receiver") as url,
        running_simulator(scale=args.scale, seed=3) as sim,
    ):
        connection = simulator_connection(sim, callback_url=f"http://127.0.0.1:{port}/connectwise")
        os.environ["AIRFLOW_CONN_CONNECTWISE_DEFAULT"] = json.dumps(connection)
        os.environ["AIRFLOW_CONN_CONNECTWISE_STAGING"] = json.dumps(
            {"conn_type": "generic", "extra": {"sqlalchemy_url": url}}
        )
        engine = create_staging_engine(url)
        job = jobs.open_job(engine=engine)
        for entity in entities_read():
            jobs.run_sync(job, entity.name, mode="full", run_id="initial")
        with running_receiver(port, work) as base:
            target = f"{base}/callbacks/{install.callback_token(job.hook.site)}?recordId="
            key = sim.sim.signing_key
            half = args.deliveries // 2
            bodies = signed_deliveries(sim, args.deliveries)
            serial, serial_wall = post_all(target, bodies[:half], key, 1)
            parallel, parallel_wall = post_all(target, bodies[half:], key, args.senders)
        started = time.perf_counter()
        figures = process.drain(jobs.open_job(engine=engine), "bench-drain", batch_size=500)
        drain_wall = time.perf_counter() - started
        engine.dispose()
    return render(args, kind, (serial, serial_wall), (parallel, parallel_wall), figures, drain_wall)


def render(
    args: argparse.Namespace,
    kind: str,
    serial: tuple[list[float], float],
    parallel: tuple[list[float], float],
    figures: dict,
    drain_wall: float,
) -> str:
    """The "Callback receiver (<staging>)" section."""

    def row(label: str, timings: list[float], wall: float) -> str:
        p = percentiles(timings)
        cells = " | ".join(f"{p[key] * 1000:.1f} ms" for key in ("p50", "p95", "p99", "max"))
        return f"| {label} | {len(timings)} | {cells} | {len(timings) / wall:.0f}/s |"

    mean = statistics.mean(serial[0] + parallel[0]) * 1000
    return f"""
Standalone receiver (`python -m connectwise.callbacks`, one uvicorn worker) with staging on
{kind}, signed contact deliveries from a simulator at scale {args.scale} (in this process);
every delivery is verified (signing key cached after the first) and committed to the inbox
before the answer. Then `process.drain` applies the inbox (latest delivery per record, mapped
from the delivery, checked, upserted). {os.cpu_count()} cores, shared with the sender.

| | deliveries | p50 | p95 | p99 | max | throughput |
|---|---:|---:|---:|---:|---:|---:|
{row("one sender", *serial)}
{row(f"{args.senders} senders", *parallel)}

Drain: {figures["deliveries"]} deliveries ({figures["applied"]} applied, {figures["superseded"]}
superseded by a later delivery of the same record) in {drain_wall:.1f} s =
{figures["deliveries"] / drain_wall:.0f} deliveries/s, {figures["batches"]} batches.
ConnectWise's limit is 5 s per delivery; the mean answer was {mean:.1f} ms.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description="Callback receiver answer time and drain rate")
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--scale", default="medium")
    parser.add_argument(
        "--staging", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"]
    )
    add_output_options(parser)
    args = parser.parse_args()
    for kind in args.staging:
        publish(args, f"Callback receiver ({kind})", measure(args, kind))


if __name__ == "__main__":
    main()
