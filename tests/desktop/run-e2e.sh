#!/usr/bin/env bash
# Builds the desktop app and runs its end-to-end tests in a real window: Xvfb + a D-Bus
# session, tauri-driver + Debian's WebKitWebDriver, the ALSA null device (set by the tests).
# Screenshots and the app's log go to target/e2e-screens/.
#
# Usage: bash tests/desktop/run-e2e.sh [cargo test filter, e.g. agent_records]
# Env:   CALLREC_DESKTOP_APP=/abs/path/to/callrec-desktop   test another build (e.g. release)
set -euo pipefail
cd "$(dirname "$0")/../.."

pkgs=(build-essential pkg-config libwebkit2gtk-4.1-dev libsoup-3.0-dev libgtk-3-dev librsvg2-dev
      libayatana-appindicator3-dev libasound2-dev libdbus-1-dev xvfb xauth webkit2gtk-driver
      dbus dbus-x11 gnome-keyring python3-aiosmtpd)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
command -v tauri-driver >/dev/null 2>&1 || cargo install tauri-driver --locked

# scripts/test.sh has just built ui/dist; building it again would change the files the app
# embeds and make cargo rebuild the app.
if [ "${CALLREC_E2E_UI_BUILT:-}" != 1 ]; then
  echo "== the window (ui/)"
  npm --prefix ui ci --no-audit --no-fund
  npm --prefix ui run build
fi
echo "== the app and the server it can start"
# The same command and features as `cargo test --workspace` in scripts/test.sh, so after it
# this builds nothing: target/debug/callrec-desktop and callrec-server are the binaries that
# command built for its integration tests. (`cargo build -p …` would resolve other features —
# no dev-dependencies — and rebuild the Tauri stack and the server, minutes on a cold CI.)
cargo test --workspace --no-run

echo "== end-to-end in a real window"
# Every `#[ignore]`d test of the workspace: the real-window tests and the OS keyring test. Not
# `--test e2e`: selecting one target resolves other features than the whole
# workspace's `cargo test` did, and cargo would rebuild every dependency (~15 min cold).
# A Secret Service in the test's D-Bus session (its keyring files in a temp dir), so the app
# keeps sessions in the OS keyring as on a desktop.
keyring_home=$(mktemp -d)
trap 'rm -rf "$keyring_home"' EXIT
xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- sh -c '
  echo -n e2e | HOME="$0" gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec env NO_AT_BRIDGE=1 cargo test --workspace -- --ignored --nocapture --test-threads=1 "$@"
' "$keyring_home" "$@"
