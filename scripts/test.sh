#!/usr/bin/env bash
# The whole test suite: Rust unit + integration tests (the real binary over stdio), the wheel,
# README's pre-commit snippet run by pre-commit, then the editor suites (editors/*/test/run.sh:
# Neovim, VS Code, Emacs with eglot end to end; the Zed extension only built and checked, Zed
# itself is not driven). Each stage installs what it needs. A failing stage does not stop the
# others; the last lines say which stages passed, failed or did not run, and the exit status
# is non-zero when any failed. Honours CARGO_TARGET_DIR (every stage uses it).
set -uo pipefail
cd "$(dirname "$0")/.."

STAGES=("cargo test" "wheel" "pre-commit")
for suite in editors/*/test/run.sh; do
  [ -f "$suite" ] && STAGES+=("$suite")
done
declare -A RESULT=()

# stage NAME CMD...: runs one stage, records passed/failed.
stage() {
  local name="$1"
  shift
  echo "== $name"
  if "$@"; then
    RESULT[$name]=passed
  else
    RESULT[$name]="failed (exit $?)"
  fi
}

# Ctrl-C or a kill still prints the summary: what had not finished "did not run".
summary() {
  echo
  echo "== summary"
  local any_failed=0
  for name in "${STAGES[@]}"; do
    local r="${RESULT[$name]:-did not run}"
    printf '%-32s %s\n' "$name" "$r"
    case "$r" in failed*|"did not run") any_failed=1 ;; esac
  done
  return $any_failed
}
trap 'summary; exit 130' INT TERM

stage "cargo test" bash -c 'cargo test --locked --all-targets 2>&1'
stage "wheel" bash tests/dist/wheel_test.sh
stage "pre-commit" bash tests/dist/precommit_test.sh
for suite in "${STAGES[@]:3}"; do
  stage "$suite" bash "$suite"
done

trap - INT TERM
summary
