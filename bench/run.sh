#!/usr/bin/env bash
# Benchmarks (not run by CI): `awaitguard check` against `ruff check --no-cache --select ASYNC`
# on real code, interleaved in one run (median of RUNS, ratio), the pre-filter's equality on
# the same trees, the same check with each file alone (--no-project-model), the scan's floor
# (examples/scan_floor.rs), and per-keystroke latency + peak RSS of the server (bench/lsp_latency.py).
# Usage: bash bench/run.sh [RUNS] [EDITS]      (defaults: 7 runs, 1000 edits)
# Everything lands in target/bench/ (venv with ruff, wheels, unpacked trees).
set -euo pipefail
RUNS=${1:-7}
EDITS=${2:-1000}
# Issue 16 names Django 6.1.3; this machine's package index offers up to 5.2.19.
DJANGO=${DJANGO:-5.2.19}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/target/bench
AG=$ROOT/target/release/awaitguard
mkdir -p "$B"
cargo build --release --manifest-path "$ROOT/Cargo.toml" >&2
cargo build --release --manifest-path "$ROOT/Cargo.toml" --example scan_floor >&2
[ -x "$B/venv/bin/ruff" ] || { python3 -m venv "$B/venv" && "$B/venv/bin/pip" -q install ruff; }
RUFF=$B/venv/bin/ruff
if [ ! -d "$B/large/pretix" ]; then
  "$B/venv/bin/pip" download -q --no-deps --only-binary=:all: --python-version 3.12 -d "$B/wheels" \
    django==$DJANGO wagtail netbox weblate pretix
  rm -rf "$B/django" "$B/large" && mkdir -p "$B/django" "$B/large"
  (cd "$B/django" && unzip -qo "$B"/wheels/django-*.whl)
  for w in netbox wagtail weblate pretix; do
    mkdir -p "$B/large/$w" && (cd "$B/large/$w" && unzip -qo "$B"/wheels/$w-*.whl)
  done
fi
echo "awaitguard $("$AG" --version)  $("$RUFF" --version)  cores: $(nproc)"
for corpus in django large; do
  d=$B/$corpus
  echo "== $corpus: $(find "$d" -name '*.py' | wc -l) .py files, $(find "$d" -name '*.py' -print0 | du -ch --files0-from=- | tail -1 | cut -f1)"
  "$AG" check --isolated --exit-zero --format json "$d" > "$B/$corpus.json"
  "$AG" check --isolated --exit-zero --format json --no-prefilter "$d" > "$B/$corpus.noprefilter.json"
  cmp -s "$B/$corpus.json" "$B/$corpus.noprefilter.json" \
    && echo "pre-filter: same findings as --no-prefilter ($(grep -c '"code"' "$B/$corpus.json") findings)" \
    || { echo "pre-filter CHANGED FINDINGS on $corpus"; exit 1; }
  python3 - "$RUNS" "$AG" "$RUFF" "$d" <<'EOF'
import statistics, subprocess, sys, time
runs, ag, ruff, d = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
cmds = {"awaitguard": [ag, "check", "--exit-zero", "--format", "concise", d],
        "alone": [ag, "check", "--exit-zero", "--format", "concise", "--no-project-model", d],
        "ruff": [ruff, "check", "--no-cache", "--select", "ASYNC", "--exit-zero", "-q", d]}
t = {k: [] for k in cmds}
for i in range(runs + 1):  # interleaved; the first round warms the page cache and is dropped
    for k, c in cmds.items():
        t0 = time.perf_counter()
        subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        if i:
            t[k].append(time.perf_counter() - t0)
m = {k: statistics.median(v) * 1000 for k, v in t.items()}
print(f"check wall, median of {runs}: awaitguard {m['awaitguard']:.0f} ms, ruff --select ASYNC {m['ruff']:.0f} ms, "
      f"ratio {m['awaitguard'] / m['ruff']:.2f}; each file alone (--no-project-model) {m['alone']:.0f} ms, "
      f"ratio {m['alone'] / m['ruff']:.2f}")
EOF
  # The floor: reading, pre-filter, sparse parse and combined query; no rule logic, one thread.
  "$ROOT/target/release/examples/scan_floor" "$d" "$RUNS"
done
echo "== per keystroke: django/db/models/query.py, workspace = the large corpus"
python3 "$ROOT/bench/lsp_latency.py" --server "$AG" --file "$B/django/django/db/models/query.py" --root "$B/large" --edits "$EDITS"
