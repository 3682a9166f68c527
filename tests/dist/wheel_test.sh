#!/usr/bin/env bash
# Distribution test: builds the wheel with maturin (from PyPI, in a fresh venv under target/),
# installs it into another fresh venv, and runs the installed `awaitguard` on a fixture.
# Prints `N passed, M failed`; exits non-zero on any failure.
#
# Uses `maturin build --profile dev` (the wheel carries the same binary a release build
# would; only the optimisation level differs), so it reuses cargo's dev build cache.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TARGET=${CARGO_TARGET_DIR:-target}
case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET" ;; esac
WORK=$TARGET/dist-test
PY=${PYTHON:-python3}
pass=0
fail=0
ok() { echo "ok   - $1"; pass=$((pass + 1)); }
no() { echo "FAIL - $1"; fail=$((fail + 1)); }
finish() { echo "wheel: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

rm -rf "$WORK"
mkdir -p "$WORK"

# 1. Build the wheel.
if ! "$PY" -m venv "$WORK/build-venv"; then no "create build venv"; finish; fi
if ! "$WORK/build-venv/bin/pip" install --quiet --disable-pip-version-check "maturin>=1.5,<2"; then
  no "pip install maturin"; finish
fi
if "$WORK/build-venv/bin/maturin" build --profile dev --locked --out "$WORK/wheels" >"$WORK/build.log" 2>&1; then
  ok "maturin build"
else
  tail -30 "$WORK/build.log"; no "maturin build"; finish
fi
WHEEL=$(ls "$WORK"/wheels/awaitguard-*.whl 2>/dev/null | head -1)
if [ -n "$WHEEL" ]; then ok "wheel built: $(basename "$WHEEL")"; else no "no wheel in $WORK/wheels"; finish; fi

# 2. Install it into a fresh venv.
"$PY" -m venv "$WORK/venv"
if "$WORK/venv/bin/pip" install --quiet --disable-pip-version-check --no-index "$WHEEL"; then
  ok "pip install wheel"
else
  no "pip install wheel"; finish
fi
BIN=$WORK/venv/bin/awaitguard
if [ -x "$BIN" ]; then ok "awaitguard on the venv's PATH"; else no "no $BIN"; finish; fi

# 3. Run it.
want_version="awaitguard $(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)"
got_version=$(PATH="$WORK/venv/bin:$PATH" awaitguard --version 2>&1)
if [ "$got_version" = "$want_version" ]; then ok "--version: $got_version"; else no "--version: got '$got_version', want '$want_version'"; fi

proj=$WORK/project
mkdir -p "$proj/app"
cp tests/fixtures/python/AG101.py "$proj/app/views.py"
printf 'async def ok():\n    return 1\n' >"$proj/app/clean.py"
printf '[tool.awaitguard]\nselect = ["AG101"]\n' >"$proj/pyproject.toml"
(cd "$proj" && "$BIN" check app/views.py >"$WORK/check.out" 2>&1)
rc=$?
if [ "$rc" -eq 1 ] && grep -q "AG101" "$WORK/check.out"; then ok "check fixture: exit 1 with AG101 findings"; else cat "$WORK/check.out"; no "check fixture: exit $rc"; fi
(cd "$proj" && "$BIN" check app/clean.py >"$WORK/clean.out" 2>&1)
rc=$?
if [ "$rc" -eq 0 ]; then ok "check clean file: exit 0"; else cat "$WORK/clean.out"; no "check clean file: exit $rc"; fi
(cd "$proj" && "$BIN" check --format sarif . >"$WORK/out.sarif" 2>/dev/null)
if "$WORK/venv/bin/python" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["version"]=="2.1.0" and d["runs"][0]["results"]' "$WORK/out.sarif"; then
  ok "check --format sarif: a SARIF log with results"
else
  no "check --format sarif"
fi
printf 'select = ["nope"]\n' >"$proj/awaitguard.toml"
(cd "$proj" && "$BIN" check . >"$WORK/bad.out" 2>&1)
rc=$?
if [ "$rc" -eq 2 ] && grep -q "awaitguard.toml:1" "$WORK/bad.out"; then ok "bad config: exit 2 naming file and line"; else cat "$WORK/bad.out"; no "bad config: exit $rc"; fi
if "$BIN" rule --all | grep -q "AG101"; then ok "rule --all"; else no "rule --all"; fi

finish
