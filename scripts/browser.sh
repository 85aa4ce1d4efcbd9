#!/usr/bin/env bash
# Makes sure the headless browser the browser tests drive is present:
# Debian's chromium at /usr/bin/chromium (playwright-core ships no browser).
# Idempotent; prints the path and version. Installs only when running as root.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "[browser] $CHROMIUM is missing; install it with: sudo apt-get install -y chromium" >&2
    exit 1
  fi
  echo "[browser] installing Debian chromium (one time, a few minutes)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
fi
# Fails here, with chromium's own message, rather than later inside a test. Debian's
# launcher script prints a harmless shell warning ("[: ...: unexpected operator"); drop it.
if ! out="$("$CHROMIUM" --headless --no-sandbox --disable-gpu --version 2>&1)"; then
  echo "[browser] $CHROMIUM does not start:" >&2
  echo "$out" >&2
  exit 1
fi
echo "$out" | grep -v 'unexpected operator' || true
