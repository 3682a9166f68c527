#!/usr/bin/env bash
# Emacs end-to-end test: a real headless Emacs with eglot and the real awaitguard server.
#
# Installs Emacs and eglot from Debian (emacs-nox, elpa-eglot) when `emacs` or eglot is
# missing; if they cannot be installed the suite FAILS (it never counts as passed). Builds the
# server (cargo build; $CARGO_TARGET_DIR honoured), takes the eglot configuration from
# README.md's first ```elisp block (so the documented snippet is what is tested), and runs
# eglot-test.el in `emacs --batch` under `timeout`. Then a self-check: with a broken server on
# PATH the same test must fail, quickly.
#
# Prints one line per test and a final `N passed, M failed`; exits non-zero on any failure.
set -uo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-target}"
case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET" ;; esac
CASE_TIMEOUT="${AWAITGUARD_CASE_TIMEOUT:-90}"
passed=0
failed=0

give_up() { echo "FAIL $1"; echo "$passed passed, $((failed + 1)) failed"; exit 1; }

have_eglot() {
  command -v emacs >/dev/null &&
    emacs --batch -Q --eval '(progn (require (quote package)) (add-to-list (quote package-directory-list) "/usr/share/emacs/site-lisp/elpa") (package-initialize) (require (quote eglot)))' >/dev/null 2>&1
}
if ! have_eglot; then
  echo "emacs: installing emacs-nox and elpa-eglot (apt-get)"
  if [ "$(id -u)" = 0 ]; then SUDO=(); else SUDO=(sudo -n); fi
  "${SUDO[@]}" apt-get update -qq >/dev/null 2>&1
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends emacs-nox elpa-eglot >/dev/null 2>&1
  have_eglot || give_up "install: Emacs with eglot could not be installed (apt-get install emacs-nox elpa-eglot)"
fi
echo "emacs: $(emacs --version | head -1)"

echo "emacs: building the server (cargo build)"
(cd "$ROOT" && cargo build --locked --quiet --bin awaitguard) || give_up "build: cargo build"
[ -x "$TARGET/debug/awaitguard" ] || give_up "build: no server at $TARGET/debug/awaitguard"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/ag-emacs.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# The README's eglot snippet, verbatim.
awk '/^```elisp$/ { on = 1; next } on && /^```$/ { exit } on' "$ROOT/README.md" >"$WORK/snippet.el"
grep -q 'eglot-server-programs' "$WORK/snippet.el" || give_up "README.md has no \`\`\`elisp block configuring eglot"

# run_case NAME PATHDIR LOG: one headless Emacs with PATHDIR first on PATH; returns its status.
run_case() {
  local dir="$WORK/$1"
  mkdir -p "$dir/home" "$dir/project"
  cp "$HERE/views.py" "$dir/project/views.py"
  (cd "$dir/project" && env HOME="$dir/home" PATH="$2:$PATH" AG_TEST_SNIPPET="$WORK/snippet.el" \
    AG_TEST_FILE="$dir/project/views.py" timeout -k 5 "$CASE_TIMEOUT" \
    emacs --batch -Q -l "$HERE/eglot-test.el" </dev/null >"$3" 2>&1)
}

report() { # report OK|FAIL NAME SECONDS [LOG]
  if [ "$1" = OK ]; then
    passed=$((passed + 1)); printf 'ok    %-52s %ss\n' "$2" "$3"
  else
    failed=$((failed + 1)); printf 'FAIL  %-52s %ss\n' "$2" "$3"
    [ -n "${4:-}" ] && sed 's/^/      | /' "$4" | tail -40
  fi
}

t0=$(date +%s)
run_case real "$TARGET/debug" "$WORK/real.log"
rc=$?
if [ $rc -eq 0 ] && grep -q '^PASS eglot$' "$WORK/real.log"; then
  report OK "eglot: diagnostics, quick fix, re-publish" "$(($(date +%s) - t0))"
else
  [ $rc -eq 124 ] && echo "timed out after ${CASE_TIMEOUT}s" >>"$WORK/real.log"
  report FAIL "eglot: diagnostics, quick fix, re-publish (exit $rc)" "$(($(date +%s) - t0))" "$WORK/real.log"
fi

# Self-check (inverted): a server that exits at once must make the test fail, not hang.
mkdir -p "$WORK/broken-bin"
printf '#!/bin/sh\nexit 1\n' >"$WORK/broken-bin/awaitguard"
chmod +x "$WORK/broken-bin/awaitguard"
t0=$(date +%s)
run_case broken "$WORK/broken-bin" "$WORK/broken.log"
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $rc -ne 137 ] && grep -q '^FAIL eglot' "$WORK/broken.log"; then
  report OK "self-check: a broken server fails the test" "$(($(date +%s) - t0))"
else
  report FAIL "self-check: a broken server fails the test (exit $rc)" "$(($(date +%s) - t0))" "$WORK/broken.log"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
