"""The operating-system side of a local cluster: its database, and finding and ending processes."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.janitor import Janitor


@dataclass(frozen=True, slots=True)
class Recorded:
    """A started process: its pid and kernel start time (a reused pid has another)."""

    pid: int
    start_time: int

    @classmethod
    def of(cls, pid: int) -> Recorded:
        """Record the running process ``pid``."""
        return cls(pid, start_time(pid) or 0)

    def is_alive(self) -> bool:
        """Whether this very process still runs (not a zombie, not a reused pid)."""
        return start_time(self.pid) == self.start_time


def start_time(pid: int) -> int | None:
    """Return the kernel start time of a live, non-zombie process, or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == "Z" else int(fields[19])


def stop_processes(
    run_id: str, marker: str, leaders: Mapping[str, Recorded], timeout: float
) -> list[int]:
    """SIGTERM the leaders' process groups, wait, then SIGKILL what is left; return those pids.

    Each leader was started in a session of its own. Airflow's task supervisors move task
    processes into groups of their own in that session, so what is "left" is found by the
    :class:`Janitor`: the leaders' sessions and every process whose environment carries
    ``marker=run_id:...``.
    """
    janitor = Janitor(run_id, marker)
    for name, leader in leaders.items():
        if leader.is_alive():
            janitor.track(name, session=leader.pid)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(leader.pid, signal.SIGTERM)  # the group id is the leader's pid
    deadline = time.monotonic() + timeout
    while janitor.pids() and time.monotonic() < deadline:
        time.sleep(0.2)
    return janitor.stop(grace=0)  # grace 0: SIGKILL whatever the SIGTERM did not end


def _admin_connection(postgres_url: str) -> Any:
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(postgres_url)
    return psycopg.connect(
        host=server.host,
        port=server.port or 5432,
        dbname="postgres",
        user=server.username,
        password=server.password,
        autocommit=True,
    )


def create_database(postgres_url: str, database: str) -> bool:
    """Create ``database`` on the server unless it exists; return whether it was created."""
    from psycopg import sql

    with _admin_connection(postgres_url) as connection:
        query = "SELECT 1 FROM pg_database WHERE datname = %s"
        if connection.execute(query, (database,)).fetchone():
            return False
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        return True


def drop_database(postgres_url: str, database: str) -> None:
    """Drop ``database`` if it exists, ending its sessions."""
    from psycopg import sql

    with _admin_connection(postgres_url) as connection:
        statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        connection.execute(statement.format(sql.Identifier(database)))


def empty_redis_database(url: str) -> None:
    """Delete every key of the Redis database ``url`` names (Celery's queues and bindings)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
