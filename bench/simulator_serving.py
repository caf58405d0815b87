"""Measure how many records/s the simulator serves (scale ``large`` by default).

Runs ``python -m simulator`` as a subprocess and reads all contacts several ways at pageSize
1000 with one client: per way one warm-up read (it warms the simulator's JSON cache and the
connection), then ``--repeats`` timed reads; prints records/s, median (min–max), and writes
docs/benchmarks.md (section "Simulator serving rate").

    .venv/bin/python bench/simulator_serving.py [--scale large] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]

from bench.report import add_output_options, publish, spread  # noqa: E402
from simulator.testing import SimulatorProcess  # noqa: E402

ENTITY = "company/contacts"
PAGE = 1000


def _session(sim: SimulatorProcess) -> requests.Session:
    session = requests.Session()
    session.auth = (f"{sim.company_id}+{sim.public_key}", sim.private_key)
    session.headers["clientId"] = sim.client_id or ""
    return session


def page_number(session: requests.Session, url: str, extra: dict[str, str]) -> int:
    total, page = 0, 1
    while True:
        rows = session.get(url, params={**extra, "pageSize": PAGE, "page": page}).json()
        total += len(rows)
        if len(rows) < PAGE:
            return total
        page += 1


def keyset(session: requests.Session, url: str, extra: dict[str, str]) -> int:
    total, last = 0, 0
    while True:
        condition = f"id > {last}"
        if "conditions" in extra:
            condition += f" and ({extra['conditions']})"
        params = {**extra, "conditions": condition, "orderBy": "id asc", "pageSize": PAGE}
        rows = session.get(url, params=params).json()
        total += len(rows)
        if len(rows) < PAGE:
            return total
        last = rows[-1]["id"]


def forward_only(session: requests.Session, url: str, extra: dict[str, str]) -> int:
    total, next_url = 0, None
    params: dict[str, object] | None = {**extra, "pageSize": PAGE}
    headers = {"pagination-type": "forward-only"}
    while True:
        response = session.get(next_url or url, params=params, headers=headers)
        total += len(response.json())
        link = response.headers.get("Link")
        if not link:
            return total
        next_url, params = link.split(";")[0].strip("<>"), None


def forward_only_raw(session: requests.Session, url: str, total: int) -> int:
    """Follow forward-only links without decoding JSON: shows the server's own rate."""
    next_url: str | None = None
    params: dict[str, object] | None = {"pageSize": PAGE}
    headers = {"pagination-type": "forward-only"}
    while True:
        response = session.get(next_url or url, params=params, headers=headers)
        link = response.headers.get("Link")
        if not link:
            return total
        next_url, params = link.split(";")[0].strip("<>"), None


def measure(label: str, run: Callable[[], int], repeats: int) -> tuple[str, int, list[float]]:
    """One warm-up read, then ``repeats`` timed reads; return label, records, records/s."""
    run()  # warm the JSON cache and the connection
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        records = run()
        rates.append(records / (time.perf_counter() - start))
    print(f"{label:<55} {records:>6} records {spread(rates, 0):>24} records/s", flush=True)
    return label, records, rates


def render(scale: str, repeats: int, results: list[tuple[str, int, list[float]]]) -> str:
    """The "Simulator serving rate" section."""
    lines = [
        f"Scale `{scale}`, `{ENTITY}`, pageSize {PAGE}, one client (`requests`), loopback HTTP, "
        f"the simulator in a process of its own; per way one warm-up read, then {repeats} timed "
        "read(s), records/s as median (min–max). Client time is included: full records are "
        "bound by the client's JSON decoding; the last row shows the server's own rate.",
        "",
        "| read | records | records/s |",
        "|---|---:|---:|",
        *(
            f"| {label} | {records} | {spread(rates, 0, grouped=True)} |"
            for label, records, rates in results
        ),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Records/s the simulator serves")
    parser.add_argument("--scale", default="large")
    parser.add_argument("--repeats", type=int, default=3)
    add_output_options(parser)
    args = parser.parse_args()
    with SimulatorProcess(scale=args.scale, quiet=True) as sim:
        session = _session(sim)
        url = f"{sim.api_url}/{ENTITY}"
        since = {"conditions": "lastUpdated > [2024-01-01T00:00:00Z]"}
        ids_only = {"fields": "id"}
        total = session.get(f"{url}/count").json()["count"]
        ways: list[tuple[str, Callable[[], int]]] = [
            ("page-number paging", lambda: page_number(session, url, {})),
            ("keyset paging (id > last, orderBy id asc)", lambda: keyset(session, url, {})),
            ("keyset paging + lastUpdated > [...]", lambda: keyset(session, url, since)),
            ("forward-only (pageId)", lambda: forward_only(session, url, {})),
            ("page-number paging, fields=id", lambda: page_number(session, url, ids_only)),
            ("keyset paging, fields=id", lambda: keyset(session, url, ids_only)),
            ("forward-only, fields=id", lambda: forward_only(session, url, ids_only)),
            (
                "forward-only, body not decoded by the client",
                lambda: forward_only_raw(session, url, total),
            ),
        ]
        results = [measure(label, run, args.repeats) for label, run in ways]
    publish(args, "Simulator serving rate", render(args.scale, args.repeats, results))


if __name__ == "__main__":
    main()
