#!/usr/bin/env bash
# The browser test drives Debian's Chromium with playwright-core (which never
# downloads a browser of its own). Installs it when it is missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "The browser test needs Chromium: run 'sudo apt-get install -y chromium' (Debian/Ubuntu), or set CHROMIUM_PATH to a Chromium or Chrome binary. The other tests run without it." >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
echo "Chromium installed: $(command -v chromium)"
