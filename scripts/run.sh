#!/usr/bin/env bash
# Runs callrec on its embedded default (SQLite + ./callrec-data) on a fresh Debian 12 as root:
# installs what is missing (build tools, Rust), builds, and starts the server with demo data.
# Usage: bash scripts/run.sh [extra `callrec-server serve` flags]
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for p in build-essential pkg-config ca-certificates curl; do
  dpkg -s "$p" >/dev/null 2>&1 || need_apt+=("$p")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "callrec: installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] || curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  export PATH="$HOME/.cargo/bin:$PATH"
fi

cargo build --release -p callrec-server --bin callrec-server
export CALLREC_BOOTSTRAP_ADMIN_PASSWORD="${CALLREC_BOOTSTRAP_ADMIN_PASSWORD:-admin-change-me}"
export CALLREC_INGEST_TOKEN="${CALLREC_INGEST_TOKEN:-ingest-change-me}"
echo "callrec: admin login is admin / $CALLREC_BOOTSTRAP_ADMIN_PASSWORD (only used when the database is new)"
exec ./target/release/callrec-server serve "$@"
