#!/usr/bin/env bash
# Hardening checks beyond scripts/test.sh: loom models, miri, fuzzing, soak.
# CI (.ci/run) runs this after scripts/test.sh, with the defaults below.
#
#   bash scripts/hardening.sh     # the CI set (see README.md, "Hardening")
#
# Long modes (environment variables; README.md, "Hardening", has timings):
#   FUZZ_SECONDS=600           seconds per fuzz target (default 60); 0 skips fuzzing
#   LARDER_SOAK_OPS=50000000   operations in the soak test (default 5000000)
#   LOOM_MAX_PREEMPTIONS=3     loom's preemption bound (default 2; each step up
#                              multiplies the interleavings explored). Above
#                              2 the models are built in release.
#   MIRI_SEEDS=16              run each miri test program under 16 scheduler /
#                              weak-memory seeds (-Zmiri-many-seeds; default: one)
#   MIRI_FILTERS="table:: buffer::"
#                              run only these unit tests under miri (default:
#                              every unit test outside the simulator `sim::`,
#                              which reads trace files and calls compression C
#                              libraries, neither of which miri can run, and
#                              has no unsafe code)
#
# What runs (each step runs even if an earlier one failed; the script fails
# at the end if any step failed):
#   1. loom:  RUSTFLAGS="--cfg larder_loom" cargo test --lib loom
#             (models in src/buffer.rs, src/loader.rs, src/notification.rs and
#             src/loom_models.rs; built in $CARGO_TARGET_DIR/loom so the flag
#             change does not invalidate the normal build; debug profile at
#             the default bound: a release build of the dev-dependencies costs
#             minutes, the models run in seconds either way)
#   2. miri:  cargo +nightly miri test --lib -- --skip sim:: (or
#             $MIRI_FILTERS), with Tree
#             Borrows (crossbeam-epoch, which the table uses, is known not to
#             satisfy Stacked Borrows: crossbeam-rs/crossbeam#545; its own CI
#             runs Tree Borrows) and without leak checks: at exit, miri
#             reports crossbeam-epoch's own queue nodes and per-thread
#             records, and garbage still queued for collection, as leaks.
#             Leaks of cache values are caught instead by the drop-counting
#             tests (tests/drops.rs, tests/soak.rs, the `ops` fuzz target).
#   3. fuzz:  scripts/fuzz.sh $FUZZ_SECONDS (targets ops, timer_wheel, sketch)
#   4. soak:  LARDER_SOAK_OPS=5000000 cargo test --all-features --test soak
#             (debug, so it reuses scripts/test.sh's build; prints operations
#             and RSS)
#
# Installs what it needs when absent: the nightly toolchain (minimal
# profile), its miri and rust-src components, and cargo-fuzz
# (`cargo install cargo-fuzz --locked`). If an install fails (no nightly, a
# nightly without miri, no registry), the step that needs it prints
# "SKIPPED: <reason>" and the others still run: a missing tool does not fail
# the script, a check that ran and failed does.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
export LARDER_SOAK_OPS="${LARDER_SOAK_OPS:-5000000}"
MIRI_FILTERS="${MIRI_FILTERS:-}"
MIRI_SEEDS="${MIRI_SEEDS:-1}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

start_all=$(date +%s)
summary=()
failed=()
skipped=()
HAVE_NIGHTLY=""
NIGHTLY_SKIP=""
MIRI_SKIP=""
FUZZ_SKIP=""

# Runs "$@" as step $name with errexit in force (a subshell outside any
# conditional, so `set -e` applies inside it), records ok / FAILED and the
# time, and carries on.
step() {
    local name="$1"
    shift
    echo
    echo "== $name"
    local t0 rc
    t0=$(date +%s)
    set +e
    (
        set -euo pipefail
        "$@"
    )
    rc=$?
    set -e
    local secs=$(($(date +%s) - t0))
    if [ "$rc" -eq 0 ]; then
        summary+=("$(printf '%-6s ok       %5ds' "$name" "$secs")")
        echo "== $name: ok in ${secs}s"
    else
        summary+=("$(printf '%-6s FAILED   %5ds  (exit %d)' "$name" "$secs" "$rc")")
        failed+=("$name")
        echo "== $name: FAILED (exit $rc) after ${secs}s"
    fi
}

skip() {
    local name="$1" reason="$2"
    echo
    echo "== $name"
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    echo "!! SKIPPED: $name: $reason"
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    summary+=("$(printf '%-6s SKIPPED         %s' "$name" "$reason")")
    skipped+=("$name")
}

# Tool installation: failures here only mark the steps that need the tool
# as skipped.
setup() {
    echo
    echo "== setup (nightly, miri, cargo-fuzz)"
    local t0
    t0=$(date +%s)
    if ! command -v rustup >/dev/null 2>&1; then
        NIGHTLY_SKIP="rustup not found, so no nightly toolchain"
    elif cargo +nightly --version >/dev/null 2>&1; then
        HAVE_NIGHTLY=1
    elif rustup toolchain install nightly --profile minimal; then
        HAVE_NIGHTLY=1
    else
        NIGHTLY_SKIP="the nightly toolchain could not be installed (rustup toolchain install nightly failed)"
    fi
    if [ -n "$HAVE_NIGHTLY" ]; then
        cargo +nightly --version
        if ! rustup component add --toolchain nightly miri rust-src; then
            MIRI_SKIP="the miri component could not be installed for $(rustc +nightly --version 2>/dev/null || echo nightly)"
        elif ! cargo +nightly miri setup; then
            MIRI_SKIP="cargo +nightly miri setup failed (could not build miri's sysroot)"
        fi
        if [ "$FUZZ_SECONDS" != "0" ] && ! cargo fuzz --version >/dev/null 2>&1; then
            if ! cargo install cargo-fuzz --locked; then
                FUZZ_SKIP="cargo-fuzz could not be installed (cargo install cargo-fuzz --locked failed)"
            fi
        fi
    else
        MIRI_SKIP="$NIGHTLY_SKIP"
        FUZZ_SKIP="$NIGHTLY_SKIP"
    fi
    local secs=$(($(date +%s) - t0))
    summary+=("$(printf '%-6s done     %5ds' setup "$secs")")
    echo "== setup: ${secs}s"
}

run_loom() {
    local profile=()
    if [ "$LOOM_MAX_PREEMPTIONS" -gt 2 ]; then
        profile=(--release)
    fi
    CARGO_TARGET_DIR="$TARGET_DIR/loom" RUSTFLAGS="--cfg larder_loom" \
        cargo test ${profile[@]+"${profile[@]}"} --lib loom
}

run_miri() {
    local filters=(--skip sim::)
    if [ -n "$MIRI_FILTERS" ]; then
        read -r -a filters <<<"$MIRI_FILTERS"
    fi
    local flags="-Zmiri-tree-borrows -Zmiri-ignore-leaks"
    if [ "$MIRI_SEEDS" -gt 1 ]; then
        flags="$flags -Zmiri-many-seeds=0..$MIRI_SEEDS"
    fi
    MIRIFLAGS="${MIRIFLAGS:-$flags}"
    echo "MIRIFLAGS=\"$MIRIFLAGS\" cargo +nightly miri test --lib -- ${filters[*]}"
    MIRIFLAGS="$MIRIFLAGS" cargo +nightly miri test --lib -- "${filters[@]}"
}

run_fuzz() {
    bash scripts/fuzz.sh "$FUZZ_SECONDS"
}

run_soak() {
    cargo test --all-features --test soak -- --nocapture
}

echo "hardening: LOOM_MAX_PREEMPTIONS=$LOOM_MAX_PREEMPTIONS FUZZ_SECONDS=$FUZZ_SECONDS" \
    "LARDER_SOAK_OPS=$LARDER_SOAK_OPS MIRI_SEEDS=$MIRI_SEEDS MIRI_FILTERS=\"$MIRI_FILTERS\""
setup
step loom run_loom
if [ -n "$MIRI_SKIP" ]; then
    skip miri "$MIRI_SKIP"
else
    step miri run_miri
fi
if [ "$FUZZ_SECONDS" = "0" ]; then
    skip fuzz "FUZZ_SECONDS=0"
elif [ -n "$FUZZ_SKIP" ]; then
    skip fuzz "$FUZZ_SKIP"
else
    step fuzz run_fuzz
fi
step soak run_soak

echo
echo "== hardening summary ($(($(date +%s) - start_all))s in all)"
printf '%s\n' "${summary[@]}"
if [ "${#skipped[@]}" -gt 0 ]; then
    echo "SKIPPED steps (not run, see above): ${skipped[*]}"
fi
if [ "${#failed[@]}" -gt 0 ]; then
    echo "hardening: FAILED: ${failed[*]}"
    exit 1
fi
echo "hardening: every step that ran passed"
