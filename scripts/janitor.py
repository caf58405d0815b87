"""Find and stop every process a test or benchmark started, however Airflow re-parents them.

Airflow and the browser each run in a session of their own, Airflow's task supervisors move
task processes into process groups of their own (same session), and ``setproctitle`` rewrites
the environment block of several Airflow processes. So a :class:`Janitor` finds a run's
processes three ways: the sessions it started, a marker in the environment, and strings only
this run's command lines contain; it stops them with SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, process group, session) of a live process, or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[2]), int(fields[3])


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""


class Janitor:
    """Finds and stops every process one run started, by part (``airflow``, ``browser``...)."""

    def __init__(self, run_id: str, marker: str) -> None:
        self.run_id = run_id
        self.marker = marker  # the environment variable that marks our processes
        self.sessions: dict[str, set[int]] = {}
        self.needles: dict[str, set[bytes]] = {}

    def env(self, part: str) -> dict[str, str]:
        """Environment entries that mark a process (and its children) as this test's."""
        return {self.marker: f"{self.run_id}:{part}"}

    def track(self, part: str, *, session: int | None = None, needle: str | None = None) -> None:
        """Remember a session id, or a string only this part's command lines contain."""
        if session is not None:
            self.sessions.setdefault(part, set()).add(session)
        if needle is not None:
            self.needles.setdefault(part, set()).add(needle.encode())

    def pids(self, part: str | None = None) -> list[int]:
        """Live processes of ``part`` (or of every part)."""
        parts = [part] if part else [*self.sessions, *self.needles]
        # The environment marker: exactly this part's, or any part's of this test.
        mark = f"{self.marker}={self.run_id}:"
        prefix = f"{mark}{part}\0" if part else mark
        own_session = os.getsid(0)
        sessions = {s for p in parts for s in self.sessions.get(p, ())}
        needles = {n for p in parts for n in self.needles.get(p, ())}
        table = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                stat = _stat(int(entry.name))
                if stat and stat[0] != "Z":
                    table[int(entry.name)] = stat
        seeds = set()
        for pid in table:
            environ = b"\0" + _read(f"/proc/{pid}/environ") + b"\0"
            cmdline = _read(f"/proc/{pid}/cmdline")
            if b"\0" + prefix.encode() in environ or any(n in cmdline for n in needles):
                seeds.add(pid)
        sessions |= {table[pid][2] for pid in seeds if table[pid][2] != own_session}
        found = seeds | {pid for pid, stat in table.items() if stat[2] in sessions}
        return sorted(pid for pid in found if pid in table)

    def stop(self, part: str | None = None, grace: float = 15.0) -> list[int]:
        """SIGTERM the part's processes and their groups, then SIGKILL what is left.

        Returns the pids that needed SIGKILL.
        """
        pids = self.pids(part)
        if not pids:
            return []
        _signal_all(pids, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and self.pids(part):
            time.sleep(0.2)
        stubborn = self.pids(part)
        if stubborn:
            _signal_all(stubborn, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and self.pids(part):
                time.sleep(0.1)
        return stubborn


def _signal_all(pids: list[int], sig: signal.Signals) -> None:
    own_group = os.getpgrp()
    for pid in pids:
        try:
            group = os.getpgid(pid)
            if group != own_group:
                os.killpg(group, sig)
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            continue
