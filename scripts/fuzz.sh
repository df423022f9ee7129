#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS seconds each (default 60) and
# reports how many inputs each executed.
#
#   bash scripts/fuzz.sh            # 60 s per target
#   bash scripts/fuzz.sh 600        # 10 min per target
#   FUZZ_TARGETS="ops" bash scripts/fuzz.sh 30
#
# Needs the nightly toolchain and cargo-fuzz (installed here if missing).
# New corpus entries go to fuzz/target/run-corpus/<target> (ignored by git);
# the committed seeds in fuzz/corpus/<target> are read, never written.
# A crash leaves its input in fuzz/artifacts/<target>/ and makes the script
# exit non-zero after every target has run.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET="${1:-60}"
TARGETS="${FUZZ_TARGETS:-ops timer_wheel sketch}"
ROOT="$(pwd)"

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

echo "== cargo +nightly fuzz build"
cargo +nightly fuzz build

failed=()
summary=()
for t in $TARGETS; do
    run_corpus="$ROOT/fuzz/target/run-corpus/$t"
    mkdir -p "$run_corpus"
    log="$ROOT/fuzz/target/fuzz-$t.log"
    echo "== fuzz $t for ${SECONDS_PER_TARGET}s"
    if cargo +nightly fuzz run "$t" "$run_corpus" "$ROOT/fuzz/corpus/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=30 -print_final_stats=1 >"$log" 2>&1; then
        status=ok
    else
        status=CRASH
        failed+=("$t")
        grep -v '^\s*[0-9]*: \|^\s*at ' "$log" | tail -60 || true
    fi
    execs="$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)"
    summary+=("$(printf '%-12s %-5s %10s execs in %ss' "$t" "$status" "${execs:-?}" "$SECONDS_PER_TARGET")")
done

echo "== fuzz summary"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "crashing targets: ${failed[*]} (inputs in fuzz/artifacts/)"
    exit 1
fi
