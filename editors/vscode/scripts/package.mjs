// Packages the extension as awaitguard-<version>.vsix with the server binary for the platform
// this runs on under bin/<platform>-<arch>/.
//
//   node scripts/package.mjs [path/to/awaitguard]
//
// The binary defaults to $AWAITGUARD_BINARY, then release/awaitguard in $CARGO_TARGET_DIR
// (relative to the repository; default ../../target). The
// package is marked for that platform (vsce --target), since the binary only runs there.
// vsce runs `vscode:prepublish` (type check + esbuild) itself.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const exe = process.platform === 'win32' ? 'awaitguard.exe' : 'awaitguard';
const targetDir = path.resolve(root, '..', '..', process.env.CARGO_TARGET_DIR || 'target');
const source = path.resolve(process.argv[2] ?? process.env.AWAITGUARD_BINARY ?? path.join(targetDir, 'release', exe));

if (!fs.existsSync(source)) {
  console.error(`package: no server binary at ${source} (build it with \`cargo build --release\`)`);
  process.exit(1);
}
const version = execFileSync(source, ['--version'], { encoding: 'utf8' }).trim();
if (version !== `awaitguard ${pkg.version}`) {
  console.error(`package: ${source} says "${version}", the extension is ${pkg.version}`);
  process.exit(1);
}

// vsce's names for platforms (https://code.visualstudio.com/api/working-with-extensions/publishing-extension#platformspecific-extensions).
const targets = {
  'win32-x64': 'win32-x64', 'win32-arm64': 'win32-arm64',
  'linux-x64': 'linux-x64', 'linux-arm64': 'linux-arm64', 'linux-arm': 'linux-armhf',
  'darwin-x64': 'darwin-x64', 'darwin-arm64': 'darwin-arm64',
};
const platform = `${process.platform}-${process.arch}`;
const target = targets[platform];

const binDir = path.join(root, 'bin');
fs.rmSync(binDir, { recursive: true, force: true });
fs.mkdirSync(path.join(binDir, platform), { recursive: true });
const dest = path.join(binDir, platform, exe);
fs.copyFileSync(source, dest);
fs.chmodSync(dest, 0o755);

const out = path.join(root, `awaitguard-${pkg.version}.vsix`);
fs.rmSync(out, { force: true });
const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
const args = [vsce, 'package', '--no-dependencies', '--out', out, ...(target ? ['--target', target] : [])];
execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
console.log(`package: ${path.relative(process.cwd(), out)} (${target ?? 'universal'}, server ${version})`);
