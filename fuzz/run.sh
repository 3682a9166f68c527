#!/bin/sh
# Runs one fuzz target for SECONDS with its options and the dictionary, then prints
# executions, exec/s and the crashes found (new files in fuzz/artifacts/TARGET).
#   fuzz/run.sh core 60          fast core: parse + model + rules on one small text
#   fuzz/run.sh project_model 60 three files, edits, incremental model == fresh model
#   fuzz/run.sh analyze_fix 60   slow end to end: fixes re-parse, fix-all idempotent
#   fuzz/run.sh edit_script 60   slow end to end: LSP edit scripts == fresh analysis
# Extra arguments go to libFuzzer (e.g. -jobs=2). Needs cargo-fuzz and a nightly toolchain.
# FUZZ_PREBUILT=1 runs the binary already built by `fuzz/build.sh` without asking cargo (so
# that several targets built with different sanitizers can run at the same time: cargo would
# rebuild the shared library each time the sanitizer flags change).
# -detect_leaks=0: LeakSanitizer's scan after every input that keeps memory (memoised query
# caches) was 60 % of the time and made the core target 40x slower; AddressSanitizer stays on
# for the other targets. The core target runs without a sanitizer (-s none): the code it
# drives is safe Rust plus tree-sitter's C parser, natively ~2,100 exec/s
# (examples/fuzz_core_profile.rs); 1,228-1,543 exec/s under libFuzzer at load 6 against 101-152
# with AddressSanitizer. The project has no `unsafe`; a panic or an abort is still a crash.
set -eu
target=${1:?usage: fuzz/run.sh TARGET SECONDS [libFuzzer options]}
secs=${2:-60}
shift 2 || shift $#
cd "$(dirname "$0")"
sanitizer=address
case "$target" in
  core) max_len=256; sanitizer=none ;;
  project_model) max_len=1024 ;;
  analyze_fix|edit_script) max_len=4096 ;;
  *) echo "unknown target $target (core, project_model, analyze_fix, edit_script)" >&2; exit 2 ;;
esac
[ -d corpus/"$target" ] || python3 seed.py >/dev/null
mkdir -p artifacts/"$target"
before=$(ls artifacts/"$target" | wc -l)
log=$(mktemp)
status=0
if [ "${FUZZ_PREBUILT:-0}" = 1 ]; then
  set -- target/x86_64-unknown-linux-gnu/release/"$target" corpus/"$target" "$@"
else
  set -- cargo +nightly fuzz run -s "$sanitizer" "$target" corpus/"$target" -- "$@"
fi
"$@" -max_total_time="$secs" -max_len="$max_len" -dict=dict/awaitguard.dict -detect_leaks=0 -print_final_stats=1 >"$log" 2>&1 || status=$?
after=$(ls artifacts/"$target" | wc -l)
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
time=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
[ -n "$time" ] || time=$secs
echo "target: $target  max_len: $max_len  seconds: $time"
echo "executions: ${runs:-?}  exec/s: $(( ${runs:-0} / (time > 0 ? time : 1) ))"
echo "crashes found: $((after - before)) (fuzz/artifacts/$target)  exit: $status  log: $log"
grep -m3 -E '^(==[0-9]+== ERROR|thread .* panicked)' "$log" || true
