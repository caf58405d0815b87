"""bench/cpu.py: CPU-seconds grouped by the process tree each root started."""

from __future__ import annotations

import subprocess
import sys
import time

from bench.cpu import MACHINE, CpuSample

BURN = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"


def test_cpu_of_a_grandchild_counts_for_the_root_it_descends_from():
    # A shell (the root) waits, starts Python, which burns 0.3 CPU-seconds and exits into the
    # shell's reaped children's time, then the shell idles: the root's group has the burn.
    root = subprocess.Popen(
        ["/bin/sh", "-c", f'sleep 0.5; "{sys.executable}" -c "$BURN"; sleep 5'],
        env={"BURN": BURN, "PATH": "/usr/bin:/bin"},
    )
    try:
        before = CpuSample.take({root.pid: "burner", -1: "nobody"})
        deadline = time.monotonic() + 20
        spent = CpuSample.take({root.pid: "burner"}) - before
        while spent["burner"] < 0.25 and time.monotonic() < deadline:
            time.sleep(0.05)
            spent = CpuSample.take({root.pid: "burner"}) - before
        assert 0.25 <= spent["burner"] < 1.5
        assert spent[MACHINE] >= spent["burner"] * 0.9  # the machine's busy time includes it
        assert "nobody" not in spent  # a root with no process has no group
    finally:
        root.kill()
        root.wait()
