"""Health of a local cluster's components, checked the way docker-compose.yaml checks them.

The api-server answers ``/api/v2/monitor/health`` (metadatabase, scheduler, triggerer and
dag-processor heartbeats); the scheduler serves its own health check port; a Celery worker
answers a ``ping`` through the broker (compose: ``celery inspect ping``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from scripts.cluster_settings import Endpoints, broker_url

HEARTBEAT_KEYS = {"dag-processor": "dag_processor", "triggerer": "triggerer"}


@dataclass(frozen=True, slots=True)
class ComponentStatus:
    """One component: pid, whether it runs, and what its health check says."""

    name: str
    pid: int | None
    is_alive: bool
    is_healthy: bool
    health: str


def worker_nodename(name: str) -> str:
    """Celery's node name of worker ``name`` (``-H name@%h``), e.g. ``worker1@myhost``."""
    from celery.utils.nodenames import host_format

    return host_format(f"{name}@%h")


def ping_workers(url: str, timeout: float = 1.0) -> set[str]:
    """Node names of the Celery workers on broker ``url`` that answer a ping."""
    from celery import Celery

    app = Celery(broker=url)
    app.conf.broker_connection_timeout = timeout
    try:
        replies = app.control.ping(timeout=timeout) or []
    except Exception:
        return set()
    finally:
        app.close()
    return {name for reply in replies for name in reply}


def _get(url: str) -> tuple[int | None, Any]:
    try:
        response = httpx.get(url, timeout=5)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}"
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text


def _health(name: str, endpoints: Endpoints, checks: dict[str, Any]) -> tuple[bool, str]:
    if name == "api-server":
        code, _ = checks["api"]
        return code == 200, f"HTTP {code} /api/v2/monitor/health" if code else "no answer"
    if name == "scheduler":
        code, _ = checks["scheduler"]
        port = endpoints.scheduler_health_port
        return code == 200, f"HTTP {code} :{port}/health" if code else f"no answer on :{port}"
    if name in HEARTBEAT_KEYS:
        code, body = checks["api"]
        if code != 200 or not isinstance(body, dict):
            return False, "unknown (api-server not answering)"
        state = (body.get(HEARTBEAT_KEYS[name]) or {}).get("status") or "no heartbeat"
        return state == "healthy", f"{state} (heartbeat)"
    nodename = worker_nodename(name)
    is_answering = nodename in checks["workers"]
    return is_answering, f"{'pong' if is_answering else 'no ping reply'} from {nodename}"


def component_statuses(
    endpoints: Endpoints, processes: Mapping[str, tuple[int, bool]]
) -> list[ComponentStatus]:
    """Status of each component in ``processes`` (name -> pid, is alive).

    ``health`` starts with ``healthy`` only when the component's own check passes.
    """
    api_url = f"http://{endpoints.api_host}:{endpoints.api_port}"
    checks = {
        "api": _get(f"{api_url}/api/v2/monitor/health"),
        "scheduler": _get(f"http://127.0.0.1:{endpoints.scheduler_health_port}/health"),
        "workers": ping_workers(broker_url(endpoints))
        if any(name.startswith("worker") for name in processes)
        else set(),
    }
    statuses = []
    for name, (pid, is_alive) in processes.items():
        is_healthy, detail = _health(name, endpoints, checks)
        is_healthy = is_healthy and is_alive
        health = f"{'healthy' if is_healthy else 'unhealthy'}: {detail}"
        statuses.append(ComponentStatus(name, pid, is_alive, is_healthy, health))
    return statuses
