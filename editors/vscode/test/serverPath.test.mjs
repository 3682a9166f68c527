// How the extension finds the server (src/serverPath.ts, bundled by `npm run build:test`):
// setting -> bundled binary -> PATH, and the error text when nothing works.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { PKG, ROOT, serverBinary } from './lsp-client.mjs';

const require = createRequire(import.meta.url);
const sp = require(path.join(ROOT, 'dist', 'test', 'serverPath.js'));

const exe = process.platform === 'win32' ? 'awaitguard.exe' : 'awaitguard';
const plat = `${process.platform}-${process.arch}`;

const made = [];
function tmp() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'awaitguard-path-'));
  made.push(d);
  return d;
}
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** Runs `body` with PATH set to `dirs` (so a real `awaitguard` on PATH cannot leak in). */
async function withPath(dirs, body) {
  const saved = process.env.PATH;
  process.env.PATH = dirs.join(path.delimiter);
  try {
    return await body();
  } finally {
    process.env.PATH = saved;
  }
}

test('nothing found: the error names every attempt and why it failed', async () => {
  const ext = tmp();
  const r = await withPath([tmp()], () => sp.resolveServer({ configured: ['/nonexistent/awaitguard'], extensionPath: ext }));
  assert.equal(r.found, undefined);
  assert.deepEqual(r.attempts.map((a) => a.candidate.source), ['setting awaitguard.path', 'bundled binary', 'PATH']);
  assert.deepEqual(r.attempts.map((a) => a.error), ['not found', 'not bundled for this platform', 'not found']);
  const msg = sp.explainFailure(r);
  assert.match(msg, /\/nonexistent\/awaitguard — not found/);
  assert.match(msg, new RegExp(`bin[\\\\/]${plat}[\\\\/]${exe} — not bundled for this platform`));
  assert.match(msg, /\(3\) PATH: awaitguard — not found/);
  assert.match(msg, /awaitguard\.path/);
});

test('the bundled binary is used when the setting is empty', async () => {
  const ext = tmp();
  fs.mkdirSync(path.join(ext, 'bin', plat), { recursive: true });
  fs.copyFileSync(serverBinary(), path.join(ext, 'bin', plat, exe));
  fs.chmodSync(path.join(ext, 'bin', plat, exe), 0o644); // as if unzipped without the x bit
  const r = await withPath([tmp()], () => sp.resolveServer({ configured: [], extensionPath: ext }));
  assert.equal(r.found?.candidate.source, 'bundled binary');
  assert.equal(r.found?.version, PKG.version);
});

test('the setting wins, and falls through to PATH when it does not answer like awaitguard', async () => {
  const dir = tmp();
  fs.copyFileSync(serverBinary(), path.join(dir, exe));
  fs.chmodSync(path.join(dir, exe), 0o755);
  const found = await withPath([dir], () => sp.resolveServer({ configured: [path.join(dir, exe)], extensionPath: tmp() }));
  assert.equal(found.found?.candidate.source, 'setting awaitguard.path');
  assert.deepEqual(found.found?.candidate.args, []);

  if (process.platform !== 'win32') {
    const fake = path.join(dir, 'not-awaitguard.sh');
    fs.writeFileSync(fake, '#!/bin/sh\necho "something else 1.0"\n', { mode: 0o755 });
    const r = await withPath([dir], () => sp.resolveServer({ configured: [fake], extensionPath: tmp() }));
    assert.match(r.attempts[0].error, /not "awaitguard <version>"/);
    assert.equal(r.found?.candidate.source, 'PATH');
  }
});

test('a broken binary is reported with its exit status', { skip: process.platform === 'win32' }, async () => {
  const dir = tmp();
  const broken = path.join(dir, 'awaitguard');
  fs.writeFileSync(broken, '#!/bin/sh\necho "boom" >&2\nexit 3\n', { mode: 0o755 });
  const r = await withPath([dir], () => sp.resolveServer({ configured: [], extensionPath: tmp() }));
  assert.equal(r.found, undefined);
  assert.match(r.attempts.at(-1).error, /exit 3.*boom/);
});

test('~ and ${workspaceFolder} are expanded in the setting', () => {
  const c = sp.candidates({ configured: ['${workspaceFolder}/tools/awaitguard', '--flag=${workspaceFolder}'], extensionPath: '/ext', workspaceFolder: '/ws' });
  assert.equal(c[0].command, path.join('/ws', 'tools', 'awaitguard'));
  assert.deepEqual(c[0].args, ['--flag=/ws']);
  assert.equal(sp.candidates({ configured: ['~/bin/awaitguard'], extensionPath: '/ext' })[0].command, path.join(os.homedir(), 'bin', 'awaitguard'));
  assert.equal(sp.candidates({ configured: ['./awaitguard'], extensionPath: '/ext', workspaceFolder: '/ws' })[0].command, path.join('/ws', 'awaitguard'));
  assert.equal(sp.candidates({ configured: ['awaitguard-dev'], extensionPath: '/ext', workspaceFolder: '/ws' })[0].command, 'awaitguard-dev');
});
