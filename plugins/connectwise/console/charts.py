"""Small bar charts of recent runs, drawn on the server as inline SVG.

No JavaScript library and no CDN: the console must work offline, and a dozen bars do not need
one. Each bar carries a ``<title>`` (the browser's tooltip) with the run's figures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from connectwise.staging.health import RunFigures

WIDTH = 132
HEIGHT = 28
GAP = 2
STATUS_CLASS = {"success": "ok", "failed": "failed", "running": "running"}

METRICS: dict[str, tuple[str, Callable[[RunFigures], float]]] = {
    "duration": ("s", lambda run: run.duration_seconds or 0.0),
    "records": ("records", lambda run: float(run.records)),
    "requests": ("requests", lambda run: float(run.http_requests)),
}


def run_bars(runs: Sequence[RunFigures], metric: str, slots: int = 12) -> str:
    """Draw an SVG bar per run (oldest left), scaled to the largest; empty runs draw a baseline."""
    unit, value_of = METRICS[metric]
    values = [value_of(run) for run in runs][-slots:]
    shown = list(runs)[-slots:]
    top = max(values, default=0.0) or 1.0
    bar = (WIDTH - GAP * (slots - 1)) / slots
    parts = [
        f'<svg class="bars" role="img" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" aria-label="{escape(metric)} of the last '
        f'{len(shown)} runs">',
        f'<line x1="0" y1="{HEIGHT - 0.5}" x2="{WIDTH}" y2="{HEIGHT - 0.5}" class="axis"/>',
    ]
    for index, (run, value) in enumerate(zip(shown, values, strict=True)):
        height = max(1.0, (HEIGHT - 2) * value / top)
        x = index * (bar + GAP)
        label = (
            f"{_when(run)} {run.mode}, {run.status}: {_figure(value)} {unit} "
            f"({_figure(run.duration_seconds or 0.0)} s, {run.records} records, "
            f"{run.http_requests} requests)"
        )
        parts.append(
            f'<rect x="{x:.1f}" y="{HEIGHT - height:.1f}" width="{bar:.1f}" '
            f'height="{height:.1f}" class="{STATUS_CLASS.get(run.status, "other")}">'
            f"<title>{escape(label)}</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _when(run: RunFigures) -> str:
    return run.started_at.strftime("%Y-%m-%d %H:%M UTC") if run.started_at else "?"


def _figure(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
