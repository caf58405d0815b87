#!/usr/bin/env bash
# Install everything (first run only), then run the initial sync on the embedded default:
# ConnectWise simulator + SQLite staging + Airflow. DEMO_SCALE=small|medium|large.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/bootstrap.sh"
exec "$ROOT/.venv/bin/python" "$ROOT/scripts/demo.py" "$@"
