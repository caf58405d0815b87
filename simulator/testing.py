"""Run the simulator for tests and benchmarks: in a thread, or as a subprocess.

``running_simulator`` starts uvicorn in a daemon thread on a free loopback port; the handle
mirrors the control API. ``SimulatorProcess`` runs ``python -m simulator`` instead.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import uvicorn

from simulator.settings import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CODEBASE,
    DEFAULT_COMPANY_ID,
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
    AuthSettings,
    CallbackSettings,
    FaultSettings,
    field_names,
)

if TYPE_CHECKING:
    from simulator.core import Simulator

_REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SimulatorHandle:
    """Address, credentials and control-API helpers of a running simulator."""

    def __init__(self, port: int, codebase: str = DEFAULT_CODEBASE) -> None:
        self.host = f"127.0.0.1:{port}"
        self.base_url = f"http://{self.host}"
        self.codebase = codebase
        self._http = httpx.Client(base_url=self.base_url, timeout=30.0)
        self.company_id = DEFAULT_COMPANY_ID
        self.public_key = DEFAULT_PUBLIC_KEY
        self.private_key = DEFAULT_PRIVATE_KEY
        self.client_id: str | None = DEFAULT_CLIENT_ID
        # The Simulator object itself when it runs in this process (white-box tests).
        self.sim: Simulator | None = None

    @property
    def api_url(self) -> str:
        """Return the API root, e.g. ``http://127.0.0.1:PORT/v2025_1/apis/3.0``."""
        return f"{self.base_url}/{self.codebase}apis/3.0"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    def refresh_auth(self) -> dict[str, Any]:
        """Reload the credentials from the simulator into this handle."""
        settings = self._call("GET", "/_sim/auth")
        self.company_id, self.public_key = settings["company_id"], settings["public_key"]
        self.private_key, self.client_id = settings["private_key"], settings["client_id"]
        return settings

    def health(self) -> dict[str, Any]:
        """Return ``GET /_sim/health``."""
        return self._call("GET", "/_sim/health")

    def set_faults(self, **settings: Any) -> dict[str, Any]:
        """Change fault settings (``PUT /_sim/faults``)."""
        return self._call("PUT", "/_sim/faults", json=settings)

    def set_auth(self, **settings: Any) -> dict[str, Any]:
        """Change credentials or security gaps (``PUT /_sim/auth``)."""
        self._call("PUT", "/_sim/auth", json=settings)
        return self.refresh_auth()

    def set_callback_settings(self, **settings: Any) -> dict[str, Any]:
        """Change delivery tuning (``PUT /_sim/callbacks/settings``)."""
        return self._call("PUT", "/_sim/callbacks/settings", json=settings)

    def stats(self) -> dict[str, Any]:
        """Return ``GET /_sim/stats``."""
        return self._call("GET", "/_sim/stats")

    def reset_stats(self) -> None:
        """Zero the counters."""
        self._call("POST", "/_sim/stats/reset")

    def reset(self) -> None:
        """Regenerate the data and clear faults, stats and callbacks."""
        self._call("POST", "/_sim/reset")
        self.refresh_auth()

    def mutate(self, path: str, create: int = 0, update: int = 0, delete: int = 0,
               spread_seconds: float = 0, seed: int | None = None) -> dict[str, list[int]]:
        """Create, update and delete records of one collection (``POST /_sim/mutate``)."""
        return self._call("POST", "/_sim/mutate", json={
            "path": path, "create": create, "update": update, "delete": delete,
            "spread_seconds": spread_seconds, "seed": seed})

    def mutations_idle(self) -> bool:
        """Return True when no spread mutation is still running."""
        return self._call("GET", "/_sim/mutations/idle")["idle"]

    def wait_mutations_idle(self, timeout: float = 60.0) -> None:
        """Block until background mutations are done."""
        deadline = time.monotonic() + timeout
        while not self.mutations_idle():
            if time.monotonic() > deadline:
                raise TimeoutError("mutations still running")
            time.sleep(0.05)

    def truth(self, path: str) -> list[dict[str, Any]]:
        """Return every record of a collection as the server holds it."""
        return self._call("GET", "/_sim/truth", params={"path": path})

    def close(self) -> None:
        """Close the control client."""
        self._http.close()


def _split_settings(
    settings: dict[str, Any],
) -> tuple[FaultSettings, AuthSettings, CallbackSettings]:
    groups = (FaultSettings, AuthSettings, CallbackSettings)
    values: list[dict[str, Any]] = [{}, {}, {}]
    for name, value in settings.items():
        for index, group in enumerate(groups):
            if name in field_names(group):
                values[index][name] = value
                break
        else:
            raise TypeError(f"Unknown simulator setting {name!r}")
    return FaultSettings(**values[0]), AuthSettings(**values[1]), CallbackSettings(**values[2])


@contextlib.contextmanager
def running_simulator(
    scale: str = "small", seed: int = 1, **settings: Any
) -> Iterator[SimulatorHandle]:
    """Serve a simulator on a free loopback port in a daemon thread; stop it on exit.

    ``settings`` are any fault, auth or callback settings, e.g. ``latency_ms=5``.
    """
    from simulator.app import SimulatorApp
    from simulator.core import Simulator

    port = free_port()
    faults, auth, callback_settings = _split_settings(settings)
    sim = Simulator(scale, seed, faults=faults, auth=auth, callback_settings=callback_settings,
                    public_url=f"http://127.0.0.1:{port}")
    config = uvicorn.Config(SimulatorApp(sim), host="127.0.0.1", port=port, log_level="warning",
                            lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"cw-simulator-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("The simulator did not start")
        time.sleep(0.01)
    handle = SimulatorHandle(port, sim.codebase)
    handle.sim = sim
    handle.refresh_auth()
    try:
        yield handle
    finally:
        handle.close()
        server.should_exit = True
        thread.join(timeout=10)
        sim.close()


class SimulatorProcess(SimulatorHandle):
    """``python -m simulator`` as a subprocess, with the same handle methods over HTTP."""

    def __init__(self, scale: str = "small", seed: int = 1, port: int | None = None,
                 extra_args: list[str] | None = None, startup_timeout: float = 120.0,
                 extra_env: dict[str, str] | None = None, own_session: bool = False,
                 quiet: bool = False) -> None:
        super().__init__(port or free_port())
        # own_session: a session of its own (callers that stop whole sessions); quiet: no output.
        self.extra_env, self.own_session, self.quiet = extra_env or {}, own_session, quiet
        self.args = [sys.executable, "-m", "simulator", "--scale", scale, "--seed", str(seed),
                     "--port", self.host.rsplit(":", 1)[1], *(extra_args or [])]
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> SimulatorProcess:
        """Start the process and wait until ``/_sim/health`` answers."""
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            p for p in (str(_REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p), **self.extra_env)
        output = subprocess.DEVNULL if self.quiet else None
        self.process = subprocess.Popen(self.args, cwd=_REPO_ROOT, env=env,  # noqa: S603
                                        start_new_session=self.own_session,
                                        stdout=output, stderr=output)
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"simulator exited with {self.process.returncode}")
            try:
                self.health()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.1)
        self.refresh_auth()
        return self

    def stop(self) -> None:
        """Terminate the process."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.close()

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
