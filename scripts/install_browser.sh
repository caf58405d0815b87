#!/usr/bin/env bash
# Install what the browser test (tests/browser) needs, when it can; never fail the caller.
#
# - Debian's chromium at /usr/bin/chromium: apt-get update + apt-get install -y chromium, only
#   when it is missing, we are root and apt-get exists.
# - playwright-core (pinned in tests/browser/package-lock.json): npm ci, only when node and npm
#   exist and node_modules does not already match the lock file. It never downloads a browser.
#
# Whatever cannot be installed is reported with the reason; the browser test then skips itself.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BROWSER_DIR="$ROOT/tests/browser"
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
  echo "==> chromium: present ($CHROMIUM)"
elif [ "$(id -u)" != "0" ]; then
  echo "==> chromium: $CHROMIUM missing and not root; skipping (install Debian's chromium" \
    "to run tests/browser)"
elif ! command -v apt-get >/dev/null 2>&1; then
  echo "==> chromium: $CHROMIUM missing and apt-get is not available; skipping"
else
  echo "==> chromium: installing Debian's chromium (apt-get)"
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium >/dev/null; }; then
    echo "==> chromium: apt-get failed; the browser test will be skipped"
  fi
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "==> playwright-core: node/npm not found; skipping"
  exit 0
fi
STAMP="$BROWSER_DIR/node_modules/.connectwise-installed"
WANT="$(sha256sum "$BROWSER_DIR/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null)" = "$WANT" ]; then
  echo "==> playwright-core: present (tests/browser/node_modules)"
  exit 0
fi
echo "==> playwright-core: npm ci in tests/browser"
if (cd "$BROWSER_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund \
    --loglevel=error); then
  echo "$WANT" > "$STAMP"
else
  echo "==> playwright-core: npm ci failed; the browser test will be skipped"
fi
exit 0
