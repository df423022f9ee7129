#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS seconds each (default 60) and
# reports how many inputs each executed.
#
#   bash scripts/fuzz.sh            # 60 s per target
#   bash scripts/fuzz.sh 600        # 10 min per target
#   FUZZ_TARGETS="ops" bash scripts/fuzz.sh 30
#
# Needs the nightly toolchain and cargo-fuzz (installed here if missing).
# Builds in fuzz/target (whatever CARGO_TARGET_DIR says: the fuzz crate is
# its own workspace, built with sanitizer flags).
# New corpus entries go to fuzz/target/run-corpus/<target> (ignored by git);
# the committed seeds in fuzz/corpus/<target> are read, never written.
# A crash leaves its input in fuzz/artifacts/<target>/ (and prints it, in
# base64 and decoded, to the log) and makes the script exit non-zero after
# every target has run.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET="${1:-60}"
TARGETS="${FUZZ_TARGETS:-ops timer_wheel sketch}"
ROOT="$(pwd)"
export CARGO_TARGET_DIR="$ROOT/fuzz/target"

if ! cargo +nightly --version >/dev/null 2>&1; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

echo "== cargo +nightly fuzz build ($(cargo fuzz --version))"
t0=$(date +%s)
cargo +nightly fuzz build
echo "== fuzz build: $(($(date +%s) - t0))s"

failed=()
summary=()
for t in $TARGETS; do
    run_corpus="$ROOT/fuzz/target/run-corpus/$t"
    mkdir -p "$run_corpus" "$ROOT/fuzz/artifacts/$t"
    log="$ROOT/fuzz/target/fuzz-$t.log"
    echo "== fuzz $t for ${SECONDS_PER_TARGET}s (log: $log)"
    t0=$(date +%s)
    if cargo +nightly fuzz run "$t" "$run_corpus" "$ROOT/fuzz/corpus/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=30 -print_final_stats=1 >"$log" 2>&1; then
        status=ok
    else
        status=CRASH
        failed+=("$t")
        echo "-- $t failed; the failure:"
        grep -m3 -A6 'panicked at\|ERROR: AddressSanitizer\|ERROR: libFuzzer\|^error' "$log" || true
        echo "-- end of the log:"
        grep -v '^\s*[0-9]*: \|^\s*at \|^\s*#[0-9]* 0x' "$log" | tail -12 || true
        crash="$(ls -t "$ROOT/fuzz/artifacts/$t"/* 2>/dev/null | head -1 || true)"
        if [ -n "$crash" ]; then
            echo "-- crashing input $crash (base64; decode into a file and run"
            echo "-- 'cargo +nightly fuzz run $t FILE' in fuzz/ to reproduce):"
            base64 "$crash" || true
            echo "-- decoded (cargo fuzz fmt):"
            cargo +nightly fuzz fmt "$t" "$crash" 2>&1 | grep -v '^\s*[0-9]*: \|^\s*at ' | head -200 || true
        fi
    fi
    secs=$(($(date +%s) - t0))
    execs="$( (grep -o 'stat::number_of_executed_units: [0-9]*' "$log" || true) | awk '{print $2}' | tail -1)"
    summary+=("$(printf '%-12s %-5s %10s execs in %ss (wall %ss)' "$t" "$status" "${execs:-?}" "$SECONDS_PER_TARGET" "$secs")")
done

echo "== fuzz summary"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "crashing targets: ${failed[*]} (inputs in fuzz/artifacts/)"
    exit 1
fi
