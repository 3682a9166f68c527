#!/usr/bin/env bash
# Builds the VS Code extension for this platform with a release server:
#   bash scripts/package-vsix.sh
# cargo build --release (honours $CARGO_TARGET_DIR), npm ci in editors/vscode when its
# dependencies are missing or stale, then editors/vscode/scripts/package.mjs, which bundles
# the server under bin/<platform>/ and runs vsce. Prints the .vsix's path and size.
# (editors/vscode/test/run.sh packages a debug build for its tests; this is the one to ship.)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-target}"
case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET" ;; esac

echo "package-vsix: cargo build --release"
cargo build --locked --release --bin awaitguard
BIN="$TARGET/release/awaitguard"

cd editors/vscode
LOCK_HASH="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat node_modules/.awaitguard-lock 2>/dev/null)" != "$LOCK_HASH" ]; then
  echo "package-vsix: npm ci"
  npm ci --prefer-offline --no-audit
  echo "$LOCK_HASH" >node_modules/.awaitguard-lock
fi
node scripts/package.mjs "$BIN"
VERSION="$(node -p 'require("./package.json").version')"
VSIX="$PWD/awaitguard-$VERSION.vsix"
echo "package-vsix: $VSIX ($(du -h "$VSIX" | cut -f1); server $(du -h "$BIN" | cut -f1))"
