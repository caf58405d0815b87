"""The floor every initial-sync figure is set against: a warm bare fetch of the same pages.

One ``requests.Session`` (not the project's hook) reads what the initial sync reads — every
entity of ``connectwise.entities.REGISTRY`` that is not optional (plus the optional ones named),
in dependency order, child entities once per parent id — in keyset pages of 1,000 (``id >
last``, ``orderBy=id asc``, as ConnectWise and the simulator page), with the headers ConnectWise
requires (Basic ``company+public:private``, ``clientId``, the versioned ``Accept``). Each body is
decoded with ``response.json()`` and discarded. A first pass warms the server (the simulator
encodes each record's JSON on first serve) and the connection; it is not counted.

    floor = measure_floor(sim, repeats=3)      # floor.median, floor.minimum, floor.requests
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import requests
from connectwise.client.site import DEFAULT_API_VERSION, MAX_PAGE_SIZE
from connectwise.entities import REGISTRY, Entity, Registry

from bench.report import spread

TIMEOUT = (10, 120)


@dataclass(frozen=True)
class Floor:
    """Timed passes of the bare fetch, with the requests and records of one pass."""

    seconds: tuple[float, ...]
    requests: int
    records: int

    @property
    def median(self) -> float:
        """Median seconds of the timed passes."""
        return statistics.median(self.seconds)

    @property
    def minimum(self) -> float:
        """Fastest timed pass."""
        return min(self.seconds)

    @property
    def maximum(self) -> float:
        """Slowest timed pass."""
        return max(self.seconds)

    def text(self, digits: int = 2) -> str:
        """``median (min–max)`` seconds."""
        return spread(list(self.seconds), digits)

    def merged(self, other: Floor) -> Floor:
        """Both floors' passes together (the same pages read at another time)."""
        return Floor(self.seconds + other.seconds, self.requests, self.records)


def entities_read(optional: Iterable[str] = (), registry: Registry = REGISTRY) -> list[Entity]:
    """Entities the initial sync reads, in dependency order: non-optional ones plus ``optional``."""
    enabled = set(optional)
    return [entity for entity in registry if not entity.optional or entity.name in enabled]


def open_session(sim: Any) -> requests.Session:
    """A plain session with the headers the simulator (like ConnectWise) requires."""
    session = requests.Session()
    session.auth = (f"{sim.company_id}+{sim.public_key}", sim.private_key)
    session.headers.update(
        {
            "clientId": sim.client_id or "",
            "Accept": f"application/vnd.connectwise.com+json; version={DEFAULT_API_VERSION}",
        }
    )
    return session


def read_endpoint(session: requests.Session, url: str) -> tuple[list[int], int]:
    """Read every keyset page of ``url``; return the ids seen and the requests made."""
    ids: list[int] = []
    requests_made, last_id = 0, 0
    while True:
        params = {"conditions": f"id > {last_id}", "orderBy": "id asc", "pageSize": MAX_PAGE_SIZE}
        response = session.get(url, params=params, timeout=TIMEOUT)
        requests_made += 1
        response.raise_for_status()
        records = response.json()
        ids.extend(int(record["id"]) for record in records)
        if records:
            last_id = ids[-1]
        if len(records) < MAX_PAGE_SIZE:
            return ids, requests_made


def fetch_all(session: requests.Session, api_url: str, entities: list[Entity]) -> tuple[int, int]:
    """One bare pass over ``entities``; return (requests, records)."""
    seen: dict[str, list[int]] = {}
    requests_made = records = 0
    for entity in entities:
        endpoints = (
            [entity.endpoint_for(parent) for parent in seen[entity.parent.entity]]
            if entity.parent
            else [entity.endpoint]
        )
        ids: list[int] = []
        for endpoint in endpoints:
            found, made = read_endpoint(session, f"{api_url}/{endpoint}")
            ids.extend(found)
            requests_made += made
        seen[entity.name] = ids
        records += len(ids)
    return requests_made, records


def measure_floor(
    sim: Any, repeats: int = 3, *, optional: Iterable[str] = (), warm_up: bool = True
) -> Floor:
    """Warm-up pass (uncounted, unless ``warm_up`` is False), then ``repeats`` timed passes."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, not {repeats}")
    entities = entities_read(optional)
    seconds: list[float] = []
    with open_session(sim) as session:
        if warm_up:
            fetch_all(session, sim.api_url, entities)
        for _ in range(repeats):
            started = time.perf_counter()
            requests_made, records = fetch_all(session, sim.api_url, entities)
            seconds.append(time.perf_counter() - started)
    return Floor(tuple(seconds), requests_made, records)
