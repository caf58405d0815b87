"""What the console pages show, gathered from staging, and how figures read on a page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from connectwise.console.charts import run_bars
from connectwise.entities import REGISTRY
from connectwise.issues import IssueGroup, open_issues
from connectwise.push.runner import FLOWS
from connectwise.staging.health import (
    EntityHealth,
    PreflightLine,
    QueueHealth,
    entity_health,
    inbox_health,
    latest_preflight,
    outbox_health,
)


@dataclass(frozen=True)
class ConsoleHealth:
    """Everything the overview page shows, read in one go."""

    now: datetime
    entities: list[EntityHealth]
    inbox: QueueHealth
    outboxes: list[QueueHealth]
    preflight: list[PreflightLine]

    @property
    def quarantined(self) -> int:
        """Open quarantine rows over every entity."""
        return sum(entity.quarantined for entity in self.entities)

    @property
    def preflight_counts(self) -> dict[str, int]:
        """How many checklist lines passed, warn (optional) and fail (required)."""
        counts = {"ok": 0, "warn": 0, "fail": 0}
        for line in self.preflight:
            counts[preflight_state(line)] += 1
        return counts


def collect_health(engine: Engine) -> ConsoleHealth:
    """Read the overview's figures from staging."""
    return ConsoleHealth(
        now=datetime.now(UTC),
        entities=entity_health(engine, REGISTRY.names()),
        inbox=inbox_health(engine),
        outboxes=outbox_health(engine, {name: flow.table for name, flow in FLOWS.items()}),
        preflight=latest_preflight(engine),
    )


def collect_issues(engine: Engine) -> list[IssueGroup]:
    """Open quarantine, grouped, with examples and the fix of each group."""
    return open_issues(engine)


def preflight_state(line: PreflightLine) -> str:
    """``ok``, ``warn`` (a check the sync can work around) or ``fail``."""
    if line.ok:
        return "ok"
    return "fail" if line.required else "warn"


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """Write the ``3 min ago``-style age of a moment; an em dash when there is none."""
    if moment is None:
        return "—"
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    return "just now" if seconds < 1 else f"{span(seconds)} ago"


def span(seconds: float) -> str:
    """Write a duration in the unit that reads well: ``42 s``, ``7 min``, ``2.5 h``, ``3.0 d``."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def stamp(moment: datetime | None) -> str:
    """Write an exact UTC time (for tooltips)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


def number(value: int | float) -> str:
    """Write a number with thousands separated."""
    return f"{value:,}"


FILTERS: dict[str, Any] = {
    "ago": ago,
    "span": span,
    "stamp": stamp,
    "number": number,
    "run_bars": run_bars,
    "preflight_state": preflight_state,
}
