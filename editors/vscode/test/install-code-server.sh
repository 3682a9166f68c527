#!/usr/bin/env bash
# Installs code-server (VS Code in a browser) for the end-to-end suite, offline apart from the
# npm registry:  install-code-server.sh VERSION DIR
#
# - code-server 4.100.3 is the last release whose installer accepts Node 20.
# - Its VS Code's @vscode/ripgrep postinstall downloads rg from GitHub; the same rg ships in
#   @vscode/ripgrep-linux-x64 on npm, so its download cache (under $TMPDIR) is seeded first.
# - npm_config_yes=true: node-pty's install runs `npx node-gyp`, which a `yes=false` npmrc
#   cancels. --unsafe-perm: install scripts must run when installing as root.
# - Native modules (kerberos needs libkrb5-dev) are compiled: npm_config_jobs=max lets node-gyp
#   use every core.
set -euo pipefail
VERSION="$1"
DIR="$2"
TMP="$DIR.tmp"
RIPGREP_NPM="@vscode/ripgrep-linux-x64@1.18.0"
RIPGREP_CACHE="vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"

rm -rf "$DIR" "$TMP"
mkdir -p "$DIR" "$TMP/${RIPGREP_CACHE%/*}"
cd "$TMP"
npm pack --silent "$RIPGREP_NPM" >/dev/null
mkdir rg
tar xzf vscode-ripgrep-linux-x64-*.tgz -C rg
tar czf "$RIPGREP_CACHE" -C rg/package/bin rg

cd "$DIR"
echo '{"private":true}' >package.json
TMPDIR="$TMP" npm_config_yes=true npm_config_jobs=max \
  npm install --unsafe-perm --no-audit --no-save --foreground-scripts "code-server@$VERSION"
"$DIR/node_modules/.bin/code-server" --version
rm -rf "$TMP"
