#!/usr/bin/env bash
# Zed extension build check: Zed itself cannot be installed or driven headless here, so this
# stage checks what Zed would load from editors/zed as a dev extension.
#
# Installs the wasm32-wasip1 target when missing (rustup; the suite FAILS if that is impossible),
# builds the extension once in release for wasm32-wasip1 (its own workspace and Cargo.lock;
# $CARGO_TARGET_DIR honoured), checks the .wasm starts with the wasm magic bytes, and checks that
# extension.toml parses (python3 tomllib) and declares the `awaitguard` language server for
# Python and Rust.
#
# Prints one line per check and a final `N passed, M failed`; exits non-zero on any failure.
set -uo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
EXT="$(cd "$HERE/.." && pwd)"
ROOT="$(cd "$EXT/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$EXT/target}"
case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET" ;; esac
WASM="$TARGET/wasm32-wasip1/release/awaitguard_zed.wasm"
passed=0
failed=0

ok() { echo "ok   $1"; passed=$((passed + 1)); }
give_up() { echo "FAIL $1"; echo "$passed passed, $((failed + 1)) failed"; exit 1; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1; then
  echo "zed: installing the wasm32-wasip1 target (rustup target add)"
  rustup target add wasm32-wasip1 >/dev/null 2>&1 || give_up "install: rustup target add wasm32-wasip1"
fi
ok "target wasm32-wasip1 installed"

echo "zed: building the extension (cargo build --release --target wasm32-wasip1)"
(cd "$EXT" && CARGO_TARGET_DIR="$TARGET" cargo build --locked --quiet --release --target wasm32-wasip1) ||
  give_up "build: cargo build --release --target wasm32-wasip1 in editors/zed"
[ -s "$WASM" ] || give_up "build: no module at $WASM"
magic="$(head -c 4 "$WASM" | od -An -tx1 | tr -d ' \n')"
[ "$magic" = 0061736d ] || give_up "build: $WASM is not a wasm module (starts with $magic)"
ok "extension builds: $(basename "$WASM"), $(wc -c <"$WASM") bytes, wasm magic"

python3 - "$EXT/extension.toml" <<'PY' || give_up "extension.toml"
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    ext = tomllib.load(f)
for key in ("id", "name", "version", "schema_version", "authors", "description", "repository"):
    assert key in ext, f"extension.toml: no {key}"
assert ext["repository"] == "https://github.com/awaitguard/awaitguard", ext["repository"]
server = ext["language_servers"]["awaitguard"]
assert sorted(server["languages"]) == ["Python", "Rust"], server["languages"]
PY
ok "extension.toml declares the awaitguard server for Python and Rust"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
