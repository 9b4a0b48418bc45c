#!/usr/bin/env bash
# The browser test drives Debian's Chromium with playwright-core (which never
# downloads a browser of its own). Installs it when it is missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "The browser test needs Chromium: run 'sudo apt-get install -y chromium' (Debian/Ubuntu)." >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
echo "Chromium installed: $(command -v chromium)"
