#!/usr/bin/env bash
# Hardening checks beyond scripts/test.sh: loom models, miri, fuzzing, soak.
#
#   bash scripts/hardening.sh     # the CI set, about 15-20 minutes on 2 cores
#
# Long modes (environment variables):
#   FUZZ_SECONDS=600           seconds per fuzz target (default 60); 0 skips fuzzing
#   LARDER_SOAK_OPS=50000000   operations in the soak test (default: a short run)
#   LOOM_MAX_PREEMPTIONS=3     loom's preemption bound (default 2; each step up
#                              multiplies the interleavings explored)
#   MIRI_FILTERS="table:: buffer::"
#                              run only these unit tests under miri (default:
#                              all of them, about 4 minutes with the build)
#
# What runs:
#   1. loom:  RUSTFLAGS="--cfg larder_loom" cargo test --release --lib loom
#             (models in src/buffer.rs, src/loader.rs, src/notification.rs and
#             src/loom_models.rs; built in target/loom so the flag change does
#             not invalidate the normal build)
#   2. miri:  cargo +nightly miri test --lib (every unit test: table, buffer,
#             node/core, policy, expiry, loader...), with Tree Borrows
#             (crossbeam-epoch, which the table uses, is known not to satisfy
#             Stacked Borrows: crossbeam-rs/crossbeam#545; its own CI runs
#             Tree Borrows) and without leak checks: at exit, miri reports
#             crossbeam-epoch's own queue nodes and per-thread records, and
#             garbage still queued for collection, as leaks. Leaks of cache
#             values are caught instead by the drop-counting tests (tests/
#             drops.rs, tests/soak.rs, the `ops` fuzz target).
#   3. fuzz:  scripts/fuzz.sh $FUZZ_SECONDS (targets ops, timer_wheel, sketch)
#   4. soak:  cargo test --test soak (LARDER_SOAK_OPS picks the length)
#
# Installs what it needs: the nightly toolchain with miri and rust-src, and
# cargo-fuzz (`cargo install cargo-fuzz --locked`) when absent.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
MIRI_FILTERS="${MIRI_FILTERS:-}"

start_all=$(date +%s)
timings=()
step() {
    local name="$1"
    shift
    echo
    echo "== $name"
    local t0
    t0=$(date +%s)
    "$@"
    timings+=("$(printf '%-6s %4ds' "$name" $(( $(date +%s) - t0 )))")
    echo "== $name: $(( $(date +%s) - t0 ))s"
}

install_tools() {
    if ! rustup toolchain list | grep -q '^nightly'; then
        rustup toolchain install nightly --profile minimal
    fi
    rustup component add --toolchain nightly miri rust-src
    cargo +nightly miri setup
    if ! cargo fuzz --version >/dev/null 2>&1; then
        cargo install cargo-fuzz --locked
    fi
}

run_loom() {
    CARGO_TARGET_DIR=target/loom RUSTFLAGS="--cfg larder_loom" \
        cargo test --release --lib loom
}

run_miri() {
    local filters=()
    read -r -a filters <<<"$MIRI_FILTERS"
    MIRIFLAGS="${MIRIFLAGS:--Zmiri-tree-borrows -Zmiri-ignore-leaks}" \
        cargo +nightly miri test --lib -- "${filters[@]}"
}

run_fuzz() {
    if [ "$FUZZ_SECONDS" = "0" ]; then
        echo "FUZZ_SECONDS=0: skipped"
        return
    fi
    bash scripts/fuzz.sh "$FUZZ_SECONDS"
}

run_soak() {
    cargo test --test soak -- --nocapture
}

step setup install_tools
step loom run_loom
step miri run_miri
step fuzz run_fuzz
step soak run_soak

echo
echo "== hardening: all passed in $(( $(date +%s) - start_all ))s"
printf '%s\n' "${timings[@]}"
