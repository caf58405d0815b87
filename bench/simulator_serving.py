"""Measure how many records/s the simulator serves at scale ``large``.

Runs ``python -m simulator --scale large`` as a subprocess, reads all contacts several ways
at pageSize 1000, prints records/s and writes them into ``simulator/README.md`` ("Serving
rate" section). Usage: ``.venv/bin/python bench/simulator_serving.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator.testing import SimulatorProcess  # noqa: E402

ENTITY = "company/contacts"
PAGE = 1000
README = ROOT / "simulator" / "README.md"


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


def measure(label: str, run: Callable[[], int]) -> tuple[str, int, float]:
    run()  # warm the JSON cache and the connection
    start = time.perf_counter()
    records = run()
    elapsed = time.perf_counter() - start
    rate = records / elapsed
    print(f"{label:<55} {records:>6} records {elapsed:6.2f} s {rate:>9,.0f} records/s")
    return label, records, rate


def write_readme(results: list[tuple[str, int, float]]) -> None:
    machine = (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    lines = [
        "## Serving rate",
        "",
        f"Measured {dt.date.today().isoformat()} by `bench/simulator_serving.py` on {machine}: "
        f"scale `large`, `{ENTITY}`, pageSize {PAGE}, one client, loopback HTTP (client time "
        "included; full records are bound by the client's JSON decoding, the last row shows "
        "the server's own rate).",
        "",
        "| read | records | records/s |",
        "|---|---:|---:|",
        *(f"| {label} | {records} | {rate:,.0f} |" for label, records, rate in results),
        "",
    ]
    text = README.read_text() if README.exists() else "# ConnectWise simulator\n"
    section = "\n".join(lines)
    if "## Serving rate" in text:
        pattern = r"## Serving rate\n.*?(?=\n## |\Z)"
        text = re.sub(pattern, section.rstrip() + "\n", text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + section
    README.write_text(text)


def main() -> None:
    with SimulatorProcess(scale="large") as sim:
        session = _session(sim)
        url = f"{sim.api_url}/{ENTITY}"
        since = {"conditions": "lastUpdated > [2024-01-01T00:00:00Z]"}
        ids_only = {"fields": "id"}
        total = session.get(f"{url}/count").json()["count"]
        results = [
            measure("page-number paging", lambda: page_number(session, url, {})),
            measure("keyset paging (id > last, orderBy id asc)", lambda: keyset(session, url, {})),
            measure("keyset paging + lastUpdated > [...]", lambda: keyset(session, url, since)),
            measure("forward-only (pageId)", lambda: forward_only(session, url, {})),
            measure("page-number paging, fields=id", lambda: page_number(session, url, ids_only)),
            measure("keyset paging, fields=id", lambda: keyset(session, url, ids_only)),
            measure("forward-only, fields=id", lambda: forward_only(session, url, ids_only)),
            measure(
                "forward-only, body not decoded by the client",
                lambda: forward_only_raw(session, url, total),
            ),
        ]
    write_readme(results)


if __name__ == "__main__":
    main()
