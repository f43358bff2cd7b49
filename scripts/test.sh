#!/usr/bin/env bash
# Runs every test of callrec on a fresh Debian 12 as root, installing what the tests need
# (Debian packages for the SMTP sink, sipp, the desktop window; npm packages; tauri-driver).
# Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

# --- what the tests need ----------------------------------------------------------------------
apt_pkgs=(build-essential pkg-config ca-certificates python3 python3-aiosmtpd sip-tester sox)
missing=()
for p in "${apt_pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# --- Rust: formatting, lints, unit + integration + end-to-end tests --------------------------
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo test (workspace)"
cargo test --workspace --no-fail-fast
