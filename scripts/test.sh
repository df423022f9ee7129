#!/usr/bin/env bash
# The project's test command (README: "Run the tests"). CI runs exactly this.
#   bash scripts/test.sh          # the CI set: format, lints, docs, all tests
# Long modes (documented in README.md) are selected with environment variables.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (all targets, all features, -D warnings)"
cargo clippy --all-targets --all-features -- -D warnings

echo "== cargo doc (no warnings)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features --quiet

echo "== cargo test (all targets + doctests)"
cargo test --all-features --lib --bins --tests --examples
cargo test --all-features --doc

echo "== criterion benches compile and run once (smoke)"
LARDER_BENCH_QUICK=1 cargo bench --bench throughput -- --test
LARDER_BENCH_QUICK=1 cargo bench --bench loading -- --test
