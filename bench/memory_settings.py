"""What bounds the pipeline's memory, and what each bound costs in time: the settings swept.

An initial sync's memory follows three settings, not the table: the parallel page readers
(the connection's ``max_parallel_requests``; each has one page of up to 1,000 records waiting,
spooled to a temporary file, since keyset paging needs a page's last id before it asks for the
next; the page being mapped is decoded 100 records at a time) and the chunks (a chunk being
gathered while the previous one loads, kept in temporary files; the quality gate keeps the
checked values of the one loading), each closed at ``settings.load_chunk_rows``
rows or ``settings.load_chunk_megabytes`` of record JSON, whichever comes first. Per
combination, at one scale: ``bench/pipeline_memory.py`` (the preflight and a full sync of every
entity, in-process, into fresh SQLite staging) once with tracemalloc for the peak, then
``--repeats`` times without it for the syncs' time and the RSS growth. The reference of the
memory target of issue #13 (large ≤ 1.3× small) is small at the defaults, probed the same way;
the time floor is the bare fetch of the same pages (``bench/floor.py``) on the same warm server.
Writes docs/benchmarks.md (section "Memory settings").

    .venv/bin/python bench/memory_settings.py                  # large, 3 repeats
    .venv/bin/python bench/memory_settings.py --scale medium --repeats 1 --no-write
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]

from connectwise.client.site import DEFAULT_PARALLEL_REQUESTS  # noqa: E402
from connectwise.mapping.models import SyncSettings  # noqa: E402

from bench.floor import measure_floor  # noqa: E402
from bench.initial_sync import SEED, probe_memory  # noqa: E402
from bench.initial_sync_report import TARGET_MEMORY_RATIO, TARGET_TASK_RATIO  # noqa: E402
from bench.report import add_output_options, publish, spread  # noqa: E402
from simulator.testing import SimulatorProcess  # noqa: E402

MAPPING = ROOT / "include" / "mappings" / "connectwise.yaml"
DEFAULT_CHUNK_ROWS: int = SyncSettings().load_chunk_rows
DEFAULT_CHUNK_MB: float = SyncSettings().load_chunk_megabytes
READERS = DEFAULT_PARALLEL_REQUESTS
# (readers, chunk rows, chunk megabytes): the defaults first, then the bounds lowered alone and
# together.
SETTINGS = (
    (READERS, DEFAULT_CHUNK_ROWS, DEFAULT_CHUNK_MB),
    (READERS, DEFAULT_CHUNK_ROWS, 4),
    (READERS, DEFAULT_CHUNK_ROWS, 2),
    (1, DEFAULT_CHUNK_ROWS, DEFAULT_CHUNK_MB),
    (1, DEFAULT_CHUNK_ROWS, 2),
    (1, 1000, 1),
)


@dataclass
class Probe:
    """One combination of settings: its traced peak and its untraced runs."""

    readers: int
    chunk_rows: int
    chunk_mb: float
    peak_mb: float
    seconds: list[float]
    rss_growth_mb: list[float]


def mapping_with_chunks(folder: Path, rows: int, megabytes: float) -> Path:
    """A copy of the shipped mapping with its chunks closed at ``rows`` or ``megabytes``."""
    text = MAPPING.read_text()
    for key, default, value in (
        ("load_chunk_rows", DEFAULT_CHUNK_ROWS, rows),
        ("load_chunk_megabytes", f"{DEFAULT_CHUNK_MB:g}", f"{megabytes:g}"),
    ):
        line = f"  {key}: {default}"
        if line not in text:
            raise RuntimeError(f"{MAPPING} no longer has the line {line.strip()!r} to change")
        text = text.replace(line, f"  {key}: {value}", 1)
    path = folder / f"mapping-{rows}-rows-{megabytes:g}-mb.yaml"
    path.write_text(text)
    return path


def sync_seconds(document: dict[str, Any]) -> float:
    """Seconds of the entities' syncs (the preflight left out) in one probe."""
    return sum(step.get("seconds") or 0.0 for step in document["steps"][1:])


def probe(
    sim: SimulatorProcess, readers: int, chunk_rows: int, chunk_mb: float, repeats: int
) -> Probe:
    """The peak of one traced probe and ``repeats`` untraced probes of one combination."""
    folder = Path(tempfile.mkdtemp(prefix="cw-bench-memory-settings-"))
    options = {
        "extra": {"max_parallel_requests": readers},
        "mapping_file": mapping_with_chunks(folder, chunk_rows, chunk_mb),
    }
    traced = probe_memory(sim, True, **options)
    untraced = [probe_memory(sim, False, **options) for _ in range(repeats)]
    result = Probe(
        readers,
        chunk_rows,
        chunk_mb,
        traced["peak_mb"],
        [sync_seconds(document) for document in untraced],
        [document["rss_growth_mb"] for document in untraced],
    )
    print(
        f"readers {readers}, chunks of {chunk_rows} rows or {chunk_mb:g} MB: "
        f"peak {result.peak_mb:.1f} MB, syncs "
        f"{spread(result.seconds, 2, ' s')}, RSS growth {spread(result.rss_growth_mb)} MB",
        flush=True,
    )
    return result


def small_reference() -> float:
    """Tracemalloc peak of small at the defaults: the denominator of the memory target."""
    with SimulatorProcess(scale="small", seed=SEED, quiet=True) as sim:
        measure_floor(sim, 1)  # the server warm, as for every probe
        peak = probe_memory(sim, True)["peak_mb"]
    print(f"small at the defaults: peak {peak:.1f} MB", flush=True)
    return float(peak)


def render(scale: str, small_mb: float, floor: list[float], probes: list[Probe]) -> str:
    """The "Memory settings" section."""
    floor_median = statistics.median(floor)
    limit = TARGET_TASK_RATIO["sqlite"]
    lines = [
        f"Scale {scale}, SQLite staging, in-process (`bench/pipeline_memory.py`, what a warm "
        "task imports loaded first): per combination of the three settings that bound what a "
        "sync holds at once, the tracemalloc peak of one probe and the time of the entities' "
        f"syncs in {len(probes[0].seconds)} more without tracing, median (min–max). The "
        f"memory target's reference is small at the defaults: {small_mb:.1f} MB. The floor is "
        f"the bare fetch of the same pages on the same warm server: {spread(floor, 2, ' s')}. "
        "Readers are the connection's `max_parallel_requests` (default "
        f"{DEFAULT_PARALLEL_REQUESTS}); a chunk closes at `settings.load_chunk_rows` rows "
        f"(default {DEFAULT_CHUNK_ROWS:,}) or `settings.load_chunk_megabytes` of record JSON "
        f"(default {DEFAULT_CHUNK_MB:g}), whichever comes first.",
        "",
        "| readers | chunk rows | chunk MB | peak (MB) | ÷ small | RSS growth (MB) | syncs (s) "
        "| ÷ floor |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for item in probes:
        ratio = statistics.median(item.seconds) / floor_median
        lines.append(
            f"| {item.readers} | {item.chunk_rows:,} | {item.chunk_mb:g} | {item.peak_mb:.1f} | "
            f"{item.peak_mb / small_mb:.1f} | {spread(item.rss_growth_mb)} | "
            f"{spread(item.seconds, 2)} | {ratio:.2f} |"
        )
    leanest = min(probes, key=lambda item: item.peak_mb)
    lines += [
        "",
        f"The leanest combination here (readers {leanest.readers}, chunks of "
        f"{leanest.chunk_rows:,} rows or {leanest.chunk_mb:g} MB) peaks at "
        f"{leanest.peak_mb / small_mb:.1f}× small; the memory target asks ≤ "
        f"{TARGET_MEMORY_RATIO}×, and the time target ≤ {limit}× the floor. Pages and "
        "chunks wait in temporary files, so these settings move the heap little: what is "
        "left is the part being mapped (100 records or 128 KB of JSON, and their rows) or the "
        "part being loaded, "
        "the checked values of one chunk and a read slice per reader. Smaller chunks cost time "
        "because each is one Great "
        "Expectations validation, whose cost is mostly fixed (tens of milliseconds, "
        "whatever the rows); fewer readers cost time once the "
        "API's latency, not this machine's CPU, bounds the read (real ConnectWise answers a "
        "page in ~0.5–2 s; the simulator here in milliseconds).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="large", choices=("small", "medium", "large"))
    parser.add_argument("--repeats", type=int, default=3)
    add_output_options(parser)
    args = parser.parse_args()
    small_mb = small_reference()
    with SimulatorProcess(scale=args.scale, seed=SEED, quiet=True) as sim:
        floor = list(measure_floor(sim, 3).seconds)
        probes = [probe(sim, *settings, args.repeats) for settings in SETTINGS]
    publish(args, "Memory settings", render(args.scale, small_mb, floor, probes))


if __name__ == "__main__":
    main()
