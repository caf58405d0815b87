"""A ConnectWise PSA REST API simulator for tests, demos and benchmarks.

Written from the API facts (``/work/shared/connectwise-api.md``), independently of the
product's client. Start it with ``python -m simulator`` or, in tests,
``simulator.testing.running_simulator()``.
"""

from __future__ import annotations

from simulator.tables import TABLE_SETUP_ENDPOINTS

__all__ = ["TABLE_SETUP_ENDPOINTS"]
