#!/usr/bin/env bash
# Create .venv and install the pinned dependencies (once; again only when a pin changes).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CONNECTWISE_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> Creating $VENV with $("$PYTHON" --version)"
  "$PYTHON" -m venv "$VENV"
fi

STAMP="$VENV/.connectwise-installed"
WANT="$(cat "$ROOT/requirements.txt" "$ROOT/requirements-dev.txt" "$ROOT/constraints.txt" \
  "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  echo "==> Installing pinned dependencies (first run takes about a minute)"
  "$VENV/bin/python" -m pip install --quiet --upgrade "pip==26.3"
  "$VENV/bin/python" -m pip install --quiet -r "$ROOT/requirements.txt" \
    -r "$ROOT/requirements-dev.txt" -c "$ROOT/constraints.txt"
  # The distribution registers the `connectwise` connection type with Airflow.
  "$VENV/bin/python" -m pip install --quiet --no-deps -e "$ROOT"
  "$VENV/bin/python" -m pip check
  echo "$WANT" > "$STAMP"
fi
