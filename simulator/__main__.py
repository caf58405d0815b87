"""``python -m simulator``: serve a simulated ConnectWise PSA tenant over HTTP."""

from __future__ import annotations

import argparse

import uvicorn

from simulator.app import SimulatorApp
from simulator.core import Simulator
from simulator.generator import SCALES
from simulator.settings import (
    DEFAULT_CLIENT_ID,
    DEFAULT_COMPANY_ID,
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
    MODULES,
    AuthSettings,
    FaultSettings,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    parser.add_argument("--scale", choices=tuple(SCALES), default="small")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--throttle-per-minute", type=int, default=None)
    parser.add_argument("--throttle-window-seconds", type=float, default=60.0)
    parser.add_argument("--retry-after-seconds", type=int, default=1)
    parser.add_argument("--truncate-rate", type=float, default=0.0)
    parser.add_argument("--hang-rate", type=float, default=0.0)
    parser.add_argument("--hang-seconds", type=float, default=30.0)
    parser.add_argument("--company-id", default=DEFAULT_COMPANY_ID)
    parser.add_argument("--public-key", default=DEFAULT_PUBLIC_KEY)
    parser.add_argument("--private-key", default=DEFAULT_PRIVATE_KEY)
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID,
                        help="required clientId value; pass '' to accept any clientId")
    parser.add_argument("--deny-module", action="append", default=[], choices=MODULES,
                        help="security module the API member lacks (repeatable)")
    parser.add_argument("--public-url", default=None,
                        help="URL callbacks use to reach this server (default http://HOST:PORT)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Generate the data and serve until interrupted."""
    args = parse_args(argv)
    faults = FaultSettings(
        latency_ms=args.latency_ms, error_rate=args.error_rate,
        throttle_per_minute=args.throttle_per_minute,
        throttle_window_seconds=args.throttle_window_seconds,
        retry_after_seconds=args.retry_after_seconds, truncate_rate=args.truncate_rate,
        hang_rate=args.hang_rate, hang_seconds=args.hang_seconds, seed=args.seed,
    )
    auth = AuthSettings(company_id=args.company_id, public_key=args.public_key,
                        private_key=args.private_key, client_id=args.client_id or None,
                        denied_modules=list(args.deny_module))
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104
    sim = Simulator(args.scale, args.seed, faults=faults, auth=auth,
                    public_url=args.public_url or f"http://{host}:{args.port}")
    uvicorn.run(SimulatorApp(sim), host=args.host, port=args.port, log_level="warning",
                lifespan="off", access_log=False)


if __name__ == "__main__":
    main()
