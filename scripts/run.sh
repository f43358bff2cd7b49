#!/usr/bin/env bash
# Runs callrec on its embedded default (SQLite + a data folder) on a fresh Debian 12 as root,
# installing what is missing (build tools, Rust, and for the window WebKitGTK and Node.js).
#
# With a display: builds and opens the desktop app; "This computer" on its first screen starts
# the bundled callrec-server with the demo directory (live calls within seconds).
# Without a display (a server box): starts callrec-server itself with the demo data on
# http://127.0.0.1:8080 (SIP on 127.0.0.1:5060); extra arguments go to `callrec-server serve`.
# Usage: bash scripts/run.sh [--server] [serve flags…]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

mode=desktop
if [ "${1:-}" = "--server" ]; then mode=server; shift; fi
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then mode=server; fi

pkgs=(build-essential pkg-config ca-certificates curl)
if [ "$mode" = desktop ]; then
  pkgs+=(libwebkit2gtk-4.1-dev libsoup-3.0-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev
    libasound2-dev libdbus-1-dev)
  command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
fi
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "callrec: installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
if ! command -v cargo >/dev/null 2>&1; then
  curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
fi

if [ "$mode" = desktop ]; then
  npm --prefix ui ci --no-audit --no-fund && npm --prefix ui run build
  # The server is built beside the app: "This computer" starts it from there. Each binary is
  # named: a `--bin` applies to every `-p`, so naming only the server built no app.
  cargo build --release -p callrec-server --bin callrec-server -p callrec-desktop --bin callrec-desktop
  exec ./target/release/callrec-desktop
fi

cargo build --release -p callrec-server --bin callrec-server
export CALLREC_BOOTSTRAP_ADMIN_PASSWORD="${CALLREC_BOOTSTRAP_ADMIN_PASSWORD:-admin-change-me}"
export CALLREC_INGEST_TOKEN="${CALLREC_INGEST_TOKEN:-ingest-change-me}"
echo "callrec: admin login is admin / $CALLREC_BOOTSTRAP_ADMIN_PASSWORD (used only when the database is new)"
exec ./target/release/callrec-server serve --demo "$@"
