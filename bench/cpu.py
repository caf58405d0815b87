"""CPU-seconds spent by each part of a local cluster while something runs.

Wall time alone cannot tell a latency-bound run (CPU idle, waiting on dependencies) from a
CPU-bound one. A :class:`CpuSample` reads ``/proc``: the machine's busy time (``/proc/stat``)
and each process's own and reaped children's time (``/proc/<pid>/stat``), grouped by the
cluster component it descends from (the pids ``scripts/local_cluster.Cluster`` recorded:
Airflow's components rewrite their process title over their environment, so the environment
cannot say); PostgreSQL's backends are one group. The difference of two samples is what the
work between them cost.

    before = CpuSample.take(cluster.roots())
    ...
    spent = CpuSample.take(cluster.roots()) - before   # {"worker1": 12.3, ...}
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
MACHINE = "machine"  # busy time of every core, whoever used it


@dataclass(frozen=True)
class CpuSample:
    """Busy CPU-seconds so far, by group (and the whole machine's under ``MACHINE``)."""

    seconds: dict[str, float]

    @classmethod
    def take(cls, roots: dict[int, str]) -> CpuSample:
        """Sample now; ``roots`` names the groups' first processes (pid → group)."""
        groups: dict[str, float] = defaultdict(float)
        groups[MACHINE] = _machine_busy()
        stats = {pid: stat for pid in _pids() if (stat := _stat(pid)) is not None}
        for pid, (comm, fields) in stats.items():
            group = "postgres" if comm == "postgres" else _root_group(pid, stats, roots)
            if group is not None:  # utime + stime + cutime + cstime (children reaped)
                groups[group] += sum(int(value) for value in fields[11:15]) / TICKS
        return cls(dict(groups))

    def __sub__(self, earlier: CpuSample) -> dict[str, float]:
        return {
            group: seconds - earlier.seconds.get(group, 0.0)
            for group, seconds in self.seconds.items()
        }


def _pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _stat(pid: int) -> tuple[str, list[str]] | None:
    """The process's name and the fields after it in ``/proc/<pid>/stat`` (None when gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()


def _root_group(
    pid: int, stats: dict[int, tuple[str, list[str]]], roots: dict[int, str]
) -> str | None:
    """The group of the nearest ancestor (or the process itself) that is a root."""
    while pid > 1:
        if pid in roots:
            return roots[pid]
        entry = stats.get(pid)
        if entry is None:
            return None
        pid = int(entry[1][1])  # ppid
    return None


def _machine_busy() -> float:
    with open("/proc/stat", encoding="ascii") as stat:
        values = [int(value) for value in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / TICKS
