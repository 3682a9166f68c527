#!/usr/bin/env bash
# The VS Code extension's test suite, runnable on a fresh machine (scripts/test.sh calls it,
# with CI=true and no stdin). It installs what it needs, caching under $CARGO_TARGET_DIR (default
# target)/editor-deps/vscode/:
#   - Debian's chromium (and libkrb5-dev, needed to build code-server's native modules)
#   - the extension's npm dependencies (npm ci, from package-lock.json)
#   - code-server (the VS Code workbench in a browser) and, through the lock file, playwright-core
# then builds the server (cargo), bundles it into awaitguard-<version>.vsix, runs the protocol
# suite (node --test, the real binary over stdio) and the end-to-end suite (the .vsix installed
# in code-server, driven through Chromium by playwright-core).
#
# Last line: "N passed, M failed". Exit status non-zero on any failure. Screenshots and logs go
# to $CARGO_TARGET_DIR (default target)/editor-artifacts/vscode/.
#
# Environment:
#   AWAITGUARD_PROFILE=release   bundle a release build (default: the dev build, which
#                                scripts/test.sh's `cargo test` has already made)
#   AWAITGUARD_BINARY=/path      bundle and test this server binary instead of building one
#   AWAITGUARD_SKIP_E2E=1        protocol suite only
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"  # editors/vscode
REPO="$(cd "$HERE/../.." && pwd)"
# cargo's target folder: $CARGO_TARGET_DIR when set (relative to the repository, as cargo
# takes it when run from there), else ./target. The server binary and the caches live there.
TARGET="${CARGO_TARGET_DIR:-target}"
case "$TARGET" in /*) ;; *) TARGET="$REPO/$TARGET" ;; esac
export CARGO_TARGET_DIR="$TARGET"
DEPS="$TARGET/editor-deps/vscode"
ART="$TARGET/editor-artifacts/vscode"
CODE_SERVER_VERSION=4.100.3
# (code-server 4.100.3: the last release whose installer accepts Node 20; see install-code-server.sh)
PROFILE="${AWAITGUARD_PROFILE:-debug}"

PASSED=0
FAILED=0
SKIPPED=0
START=$SECONDS

log() { echo "[vscode $((SECONDS - START))s] $*"; }
summary() { echo "$PASSED passed, $FAILED failed$([ "$SKIPPED" -gt 0 ] && echo ", $SKIPPED skipped")"; }
# A setup step failed: nothing after it can run. Counted as one failure.
fatal() {
  echo "run.sh: FAILED: $*" >&2
  FAILED=$((FAILED + 1))
  summary
  exit 1
}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

rm -rf "$ART"
mkdir -p "$DEPS" "$ART"
export npm_config_cache="$DEPS/npm-cache" npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

# ---------------------------------------------------------------- tools
command -v node >/dev/null || fatal "node is not installed"
command -v npm >/dev/null || fatal "npm is not installed"
command -v cargo >/dev/null || fatal "cargo is not installed"
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
[ "$NODE_MAJOR" -ge 20 ] || fatal "node >= 20 needed, found $(node --version)"

# ---------------------------------------------------------------- Debian packages
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
apt_missing=()
[ "${AWAITGUARD_SKIP_E2E:-}" = 1 ] || [ -x "$CHROMIUM" ] || apt_missing+=(chromium)
if [ "${AWAITGUARD_SKIP_E2E:-}" != 1 ] && [ ! -x "$DEPS/code-server/node_modules/.bin/code-server" ]; then
  dpkg -s libkrb5-dev >/dev/null 2>&1 || apt_missing+=(libkrb5-dev)
  command -v make >/dev/null || apt_missing+=(make)
  command -v g++ >/dev/null || apt_missing+=(g++)
  command -v python3 >/dev/null || apt_missing+=(python3)
fi
if [ ${#apt_missing[@]} -gt 0 ]; then
  log "apt-get install ${apt_missing[*]}"
  as_root apt-get update -qq >"$ART/apt.log" 2>&1 || { tail -20 "$ART/apt.log"; fatal "apt-get update"; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >>"$ART/apt.log" 2>&1 \
    || { tail -20 "$ART/apt.log"; fatal "apt-get install ${apt_missing[*]}"; }
fi

# ---------------------------------------------------------------- code-server (in the background)
# Compiling its native modules is the slowest step: it runs while npm ci, cargo and the
# protocol suite do.
CODE_SERVER="$DEPS/code-server/node_modules/.bin/code-server"
CS_PID=""
if [ "${AWAITGUARD_SKIP_E2E:-}" != 1 ]; then
  if [ -x "$CODE_SERVER" ] && "$CODE_SERVER" --version 2>/dev/null | grep -q "^$CODE_SERVER_VERSION "; then
    log "code-server $CODE_SERVER_VERSION: cached"
  else
    log "installing code-server $CODE_SERVER_VERSION in the background (a few minutes)"
    # Own session/process group, so it can be stopped whole if this script stops early.
    setsid bash "$HERE/test/install-code-server.sh" "$CODE_SERVER_VERSION" "$DEPS/code-server" \
      >"$ART/code-server-install.log" 2>&1 </dev/null &
    CS_PID=$!
    trap '[ -n "$CS_PID" ] && kill -- -"$CS_PID" 2>/dev/null' EXIT
  fi
fi

# ---------------------------------------------------------------- the extension's npm deps
cd "$HERE" || fatal "cd $HERE"
LOCK_HASH="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat node_modules/.awaitguard-lock 2>/dev/null)" != "$LOCK_HASH" ]; then
  log "npm ci"
  npm ci --prefer-offline --no-audit >"$ART/npm-ci.log" 2>&1 || { tail -30 "$ART/npm-ci.log"; fatal "npm ci"; }
  echo "$LOCK_HASH" >node_modules/.awaitguard-lock
else
  log "npm deps: cached"
fi

# ---------------------------------------------------------------- server + .vsix
cd "$REPO" || fatal "cd $REPO"
if [ -n "${AWAITGUARD_BINARY:-}" ]; then
  BIN="$AWAITGUARD_BINARY"
  log "server binary: $BIN (AWAITGUARD_BINARY)"
else
  CARGO_FLAGS=(--locked --bin awaitguard)
  [ "$PROFILE" = release ] && CARGO_FLAGS+=(--release)
  log "cargo build ${CARGO_FLAGS[*]}"
  cargo build "${CARGO_FLAGS[@]}" >"$ART/cargo-build.log" 2>&1 || { tail -30 "$ART/cargo-build.log"; fatal "cargo build"; }
  BIN="$TARGET/$PROFILE/awaitguard"
fi
[ -x "$BIN" ] || fatal "no server binary at $BIN"

cd "$HERE" || fatal "cd $HERE"
log "packaging the extension"
node scripts/package.mjs "$BIN" >"$ART/package.log" 2>&1 || { tail -30 "$ART/package.log"; fatal "packaging the .vsix"; }
grep '^package:' "$ART/package.log"
npm run --silent build:test >>"$ART/package.log" 2>&1 || { tail -30 "$ART/package.log"; fatal "building the test bundle"; }
VERSION="$(node -p 'require("./package.json").version')"
VSIX="$HERE/awaitguard-$VERSION.vsix"
PLATFORM_BIN="$HERE/bin/$(node -p 'process.platform + "-" + process.arch')/awaitguard"

# ---------------------------------------------------------------- suites
# Runs node --test on the given files; adds the TAP totals to PASSED/FAILED.
run_suite() {
  local name="$1"
  shift
  local tap="$ART/$name.tap"
  log "suite: $name"
  node --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" "$@"
  local status=$?
  local pass fail cancelled skipped
  skipped="$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -1)"
  pass="$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -1)"
  fail="$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -1)"
  cancelled="$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -1)"
  pass="${pass:-0}" fail="${fail:-0}" cancelled="${cancelled:-0}" skipped="${skipped:-0}"
  if [ "$status" -ne 0 ] && [ "$((fail + cancelled))" -eq 0 ]; then
    fail=1 # the runner itself failed (crash, no TAP totals)
  fi
  PASSED=$((PASSED + pass))
  FAILED=$((FAILED + fail + cancelled))
  SKIPPED=$((SKIPPED + skipped))
  log "suite $name: $pass passed, $((fail + cancelled)) failed, $skipped skipped"
}

export AWAITGUARD_ARTIFACTS="$ART" AWAITGUARD_BIN="$PLATFORM_BIN"
run_suite protocol test/protocol.test.mjs test/serverPath.test.mjs

if [ "${AWAITGUARD_SKIP_E2E:-}" != 1 ]; then
  if [ -n "$CS_PID" ]; then
    log "waiting for the code-server install"
    wait "$CS_PID"
    cs_status=$?
    CS_PID=""
    [ "$cs_status" -eq 0 ] || { tail -40 "$ART/code-server-install.log"; fatal "code-server install (log: code-server-install.log)"; }
    log "code-server installed"
  fi
  export CODE_SERVER VSIX CHROMIUM
  run_suite e2e test/e2e.test.mjs
fi

log "done; artifacts in ${ART#"$REPO/"}/"
summary
[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
