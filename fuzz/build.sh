#!/bin/sh
# Builds every fuzz target once, each with the sanitizer fuzz/run.sh gives it: AddressSanitizer
# for project_model, analyze_fix and edit_script, none for core. Afterwards
# `FUZZ_PREBUILT=1 fuzz/run.sh TARGET SECONDS` runs the binaries without cargo, so all four can
# run at the same time. Needs cargo-fuzz and a nightly toolchain.
set -eu
cd "$(dirname "$0")"
for t in project_model analyze_fix edit_script; do
  cargo +nightly fuzz build -s address "$t"
done
cargo +nightly fuzz build -s none core
ls -l target/x86_64-unknown-linux-gnu/release/core target/x86_64-unknown-linux-gnu/release/project_model \
  target/x86_64-unknown-linux-gnu/release/analyze_fix target/x86_64-unknown-linux-gnu/release/edit_script
