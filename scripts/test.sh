#!/usr/bin/env bash
# Install everything (first run only) and run the whole test suite.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/bootstrap.sh"
# Debian chromium + playwright-core for the browser test (skipped, with the reason, without).
"$ROOT/scripts/install_browser.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m pytest "$@"
