#!/usr/bin/env bash
# The whole test suite: Rust unit + integration tests (the real binary over stdio), then the
# editor end-to-end suites. Each stage installs what it needs. Exit non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test"
cargo test --locked --all-targets 2>&1

echo "== wheel: build with maturin, install into a fresh venv, run it"
bash tests/dist/wheel_test.sh

for suite in editors/*/test/run.sh; do
  [ -f "$suite" ] || continue
  echo "== $suite"
  bash "$suite"
done
