#!/usr/bin/env bash
# Runs every fuzz target of callrec-media for N seconds each (default 20) and exits non-zero
# if any target finds a crash, a failed assertion, a leak or a timeout.
#
#   crates/media/fuzz/smoke.sh [seconds]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain (`rustup toolchain
# install nightly`). Without nightly it falls back to stable with RUSTC_BOOTSTRAP=1, which
# enables the sanitizer flags cargo-fuzz passes. Each target starts from the committed seeds
# in fuzz/seeds/<target> and grows its own corpus in fuzz/corpus/<target> (git-ignored);
# findings land in fuzz/artifacts/<target>/ — reproduce one with
#   cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>
set -uo pipefail

secs="${1:-20}"
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.." # crates/media: cargo-fuzz looks for ./fuzz

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "smoke.sh: cargo-fuzz is not installed (cargo install cargo-fuzz)" >&2
    exit 2
fi
if rustup run nightly rustc --version >/dev/null 2>&1; then
    fuzz=(cargo +nightly fuzz)
else
    echo "smoke.sh: no nightly toolchain; using stable with RUSTC_BOOTSTRAP=1" >&2
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi

"${fuzz[@]}" build || exit 2

failed=()
for target in $("${fuzz[@]}" list); do
    mkdir -p "fuzz/corpus/$target" fuzz/artifacts
    seeds=()
    [ -d "fuzz/seeds/$target" ] && seeds=("fuzz/seeds/$target")
    echo "=== $target: ${secs}s"
    if "${fuzz[@]}" run "$target" "fuzz/corpus/$target" "${seeds[@]}" -- \
        -max_total_time="$secs" -rss_limit_mb=1024 -timeout=10 -print_final_stats=1 \
        >"fuzz/artifacts/$target.log" 2>&1; then
        grep -E "^stat::number_of_executed_units|^Done" "fuzz/artifacts/$target.log" | tr '\n' ' '
        echo
    else
        echo "!!! $target FAILED: see fuzz/artifacts/$target.log"
        grep -E "panicked|ERROR|Test unit written" "fuzz/artifacts/$target.log" | head -5
        failed+=("$target")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "smoke.sh: findings in: ${failed[*]}" >&2
    exit 1
fi
echo "smoke.sh: all targets ran ${secs}s without findings"
