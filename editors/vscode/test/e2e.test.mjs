// End-to-end: the packaged .vsix installed in the real VS Code workbench (code-server), driven
// through Debian's Chromium by playwright-core, on a small Django project (test/fixtures/bookshop).
//
// Needs (test/run.sh provides them): CODE_SERVER (the code-server executable), VSIX, CHROMIUM,
// AWAITGUARD_ARTIFACTS (screenshots and logs go there).
//
// The steps share one workbench and run in order; a failed step saves a screenshot.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CODE_SERVER = process.env.CODE_SERVER;
const VSIX = process.env.VSIX;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ART = process.env.AWAITGUARD_ARTIFACTS || fs.mkdtempSync(path.join(os.tmpdir(), 'awaitguard-e2e-art-'));
const TIMEOUT = 30_000;

const FIXED_GET = '    book = await Book.objects.aget(pk=pk)';
const FIXED_COUNT = '    n = await Book.objects.filter(a=1).acount()';

let root; // temp dir: user data, extensions, workspace
let ws; // the workspace (a copy of the fixture)
let server; // the code-server process (own process group)
let serverOut = '';
let browser;
let page;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

async function until(what, fn, timeoutMs = TIMEOUT) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${last.message})` : ''}`);
    await sleep(200);
  }
}

async function screenshot(name) {
  if (!page) return;
  const file = path.join(ART, `${name}.png`);
  try {
    await page.screenshot({ path: file });
  } catch (e) {
    console.error(`screenshot ${name} failed: ${e.message}`);
  }
}

let failedStep; // steps build on each other: after a failure the rest are skipped

/** A test step: on failure, saves `failure-<n>.png` before re-throwing. */
function step(name, fn) {
  test(name, async (t) => {
    if (failedStep) {
      t.skip(`needs "${failedStep}", which failed`);
      return;
    }
    try {
      await fn();
    } catch (e) {
      failedStep = name;
      await screenshot(`failure-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`);
      throw e;
    }
  });
}

/** The active editor's lines, in line order (`.view-line` DOM order is not line order). */
async function editorLines() {
  return page.evaluate(() => {
    const editor = document.querySelector('.part.editor .editor-group-container.active .monaco-editor');
    if (!editor) return [];
    return [...editor.querySelectorAll('.view-lines .view-line')]
      .map((el) => ({ top: parseFloat(el.style.top || '0'), text: el.textContent.replace(/\u00a0/g, ' ') }))
      .sort((a, b) => a.top - b.top)
      .map((l) => l.text);
  });
}

async function problemRows() {
  return page.$$eval('.markers-panel .monaco-list-row', (rows) => rows.map((r) => r.textContent.replace(/\u00a0/g, ' ')));
}

/**
 * The Problems panel's marker rows for AG101 under the file `name` (the server also reports
 * the workspace's unopened files through workspace/diagnostic, so each file has its own
 * group: a header row naming the file, then its markers).
 */
async function ag101Rows(name = 'views.py') {
  const out = [];
  let current = null;
  for (const t of await problemRows()) {
    if (!t.includes('AG101')) {
      current = t.includes(name) ? name : null;
    } else if (current === name) {
      out.push(t);
    }
  }
  return out;
}

async function openFile(name) {
  await page.keyboard.press('Control+P');
  await page.waitForSelector('.quick-input-widget .quick-input-box input', { state: 'visible' });
  await page.keyboard.type(name);
  await until(`quick open to list ${name}`, async () =>
    (await page.$$eval('.quick-input-list .monaco-list-row', (r) => r.map((x) => x.textContent))).some((t) => t.includes(name)),
  );
  await page.keyboard.press('Enter');
  await page.waitForSelector(`.tab.active[aria-label*="${name}"]`, { timeout: TIMEOUT });
}

async function runCommand(title) {
  await page.keyboard.press('Control+Shift+P');
  await page.waitForSelector('.quick-input-widget .quick-input-box input', { state: 'visible' });
  await page.keyboard.type(title);
  await until(`the command palette to offer "${title}"`, async () => {
    const focused = await page.$eval('.quick-input-list .monaco-list-row.focused', (r) => r.textContent).catch(() => '');
    return focused.includes(title);
  });
  await page.keyboard.press('Enter');
}

async function focusEditor() {
  await page.click('.part.editor .editor-group-container.active .monaco-editor .view-lines');
}

async function goTo(line, column) {
  await page.keyboard.press('Control+G');
  await page.waitForSelector('.quick-input-widget .quick-input-box input', { state: 'visible' });
  await page.keyboard.type(`${line}:${column}`);
  await page.keyboard.press('Enter');
  await page.waitForSelector('.quick-input-widget', { state: 'hidden' });
}

before(async () => {
  assert.ok(CODE_SERVER && fs.existsSync(CODE_SERVER), `CODE_SERVER=${CODE_SERVER}`);
  assert.ok(VSIX && fs.existsSync(VSIX), `VSIX=${VSIX}`);
  fs.mkdirSync(ART, { recursive: true });
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'awaitguard-e2e-'));
  ws = path.join(root, 'bookshop');
  fs.cpSync(path.join(HERE, 'fixtures', 'bookshop'), ws, { recursive: true });
  const userData = path.join(root, 'user-data');
  const extensions = path.join(root, 'extensions');
  const configDir = path.join(root, 'config');
  for (const d of [path.join(userData, 'User'), extensions, configDir]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'security.workspace.trust.enabled': false,
        'extensions.autoUpdate': false,
        'extensions.autoCheckUpdates': false,
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'chat.disableAIFeatures': true,
        'workbench.tips.enabled': false,
        'editor.minimap.enabled': false,
        'files.autoSave': 'off',
        'window.restoreWindows': 'none',
      },
      null,
      2,
    ),
  );
  const port = await freePort();
  const config = path.join(configDir, 'config.yaml');
  fs.writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(root, 'xdg-config'),
    XDG_DATA_HOME: path.join(root, 'xdg-data'),
    XDG_CACHE_HOME: path.join(root, 'xdg-cache'),
  };
  const common = ['--user-data-dir', userData, '--extensions-dir', extensions, '--config', config];

  const install = spawnSync(CODE_SERVER, ['--install-extension', VSIX, ...common], { env, encoding: 'utf8', timeout: 120_000 });
  fs.writeFileSync(path.join(ART, 'install-extension.log'), `${install.stdout}\n${install.stderr}`);
  assert.equal(install.status, 0, `code-server --install-extension failed:\n${install.stdout}\n${install.stderr}`);
  assert.match(install.stdout, /awaitguard.*successfully installed/i);

  server = spawn(
    CODE_SERVER,
    [
      '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check',
      '--disable-workspace-trust', '--disable-getting-started-override', ...common, ws,
    ],
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const onData = (d) => {
    serverOut += d.toString();
  };
  server.stdout.on('data', onData);
  server.stderr.on('data', onData);
  await until('code-server to listen', () => serverOut.includes('HTTP server listening'), 60_000);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 60_000 });
});

after(async () => {
  await screenshot('final');
  try {
    await browser?.close();
  } catch {
    /* ignore */
  }
  if (server?.pid) {
    // The extension host and the language server are in code-server's process group.
    const group = -server.pid;
    try {
      process.kill(group, 'SIGTERM');
    } catch {
      /* gone */
    }
    for (let i = 0; i < 30; i++) {
      try {
        process.kill(group, 0);
      } catch {
        break;
      }
      await sleep(100);
    }
    try {
      process.kill(group, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  fs.writeFileSync(path.join(ART, 'code-server.log'), serverOut);
  // The output channel (the server's log) and the extension host log, from code-server's logs.
  const logs = root ? path.join(root, 'user-data', 'logs') : undefined;
  if (logs && fs.existsSync(logs)) {
    for (const f of fs.readdirSync(logs, { recursive: true })) {
      const base = path.basename(String(f));
      if (/awaitguard/i.test(base) || base === 'exthost.log' || base === 'remoteexthost.log') {
        fs.copyFileSync(path.join(logs, String(f)), path.join(ART, `e2e-${base.replace(/^\d+-/, '')}`));
      }
    }
  }
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

step('the finding appears in the Problems panel with its code', async () => {
  await openFile('views.py');
  await until('the views.py text', async () => (await editorLines()).some((l) => l.includes('Book.objects.get(pk=pk)')));
  await page.keyboard.press('Control+Shift+M');
  await page.waitForSelector('.markers-panel', { state: 'visible', timeout: TIMEOUT });
  const rows = await until('two AG101 problems', async () => {
    const r = await ag101Rows();
    return r.length === 2 && r;
  }, 60_000);
  assert.ok(rows.every((r) => r.includes('awaitguard')), `source shown: ${rows}`);
  assert.ok(rows.some((r) => r.includes('Book.objects.get()') && r.includes('Ln 5')), `the get() finding on line 5: ${rows}`);
  assert.ok(rows.some((r) => r.includes('.count()') && r.includes('Ln 6')), `the count() finding on line 6: ${rows}`);
  await screenshot('01-problems');
});

step('the quick fix, chosen with the keyboard, rewrites the line', async () => {
  await focusEditor();
  await goTo(5, 14);
  await page.keyboard.press('Control+.');
  await page.waitForSelector('.action-widget .monaco-list-row', { state: 'visible', timeout: TIMEOUT });
  const items = await page.$$eval('.action-widget .monaco-list-row', (r) => r.map((x) => x.textContent));
  assert.ok(items.some((t) => t.includes('Disable AG101 for this line')), `the disable action is offered: ${items}`);
  await screenshot('02-quickfix');
  // Mouse clicks on this menu are swallowed: move the keyboard focus to the fix, then Enter.
  await until('the "Replace with" fix to be focused', async () => {
    const focused = await page.$eval('.action-widget .monaco-list-row.focused', (r) => r.textContent).catch(() => '');
    if (focused.includes('Replace with `await Book.objects.aget(')) return true;
    await page.keyboard.press('ArrowDown');
    return false;
  }, 10_000);
  await page.keyboard.press('Enter');
  await until('line 5 to be rewritten', async () => (await editorLines())[4] === FIXED_GET);
  assert.equal((await editorLines())[5], '    n = Book.objects.filter(a=1).count()', 'line 6 untouched');
});

step('the fixed problem disappears from the Problems panel', async () => {
  const rows = await until('one AG101 problem left', async () => {
    const r = await ag101Rows();
    return r.length === 1 && r;
  });
  assert.ok(rows[0].includes('.count()') && rows[0].includes('Ln 6'), `the count() finding is left: ${rows}`);
});

step('fix on save (editor.codeActionsOnSave: source.fixAll.awaitguard) fixes the rest', async () => {
  await focusEditor();
  await page.keyboard.press('Control+S');
  await until('line 6 to be fixed on save', async () => (await editorLines())[5] === FIXED_COUNT);
  await until('the saved file to have both fixes', () => {
    const text = fs.readFileSync(path.join(ws, 'shop', 'views.py'), 'utf8').split('\n');
    return text[4] === FIXED_GET && text[5] === FIXED_COUNT;
  });
  await until('no AG101 problems left', async () => (await ag101Rows()).length === 0);
  await screenshot('03-fixed-on-save');
});

step('"awaitguard: Fix all auto-fixable problems" fixes a whole file', async () => {
  await openFile('api.py');
  await until('two AG101 problems in api.py', async () => (await ag101Rows('api.py')).length === 2, 60_000);
  await runCommand('awaitguard: Fix all auto-fixable problems');
  await until('api.py to be fixed', async () => {
    const lines = await editorLines();
    return lines[5] === '    total = await Book.objects.acount()' && lines[6] === '    latest = await Book.objects.order_by("-id").afirst()';
  });
  await until('no AG101 problems left', async () => (await ag101Rows('api.py')).length === 0);
});

step('"awaitguard: Restart Server" brings up a working server', async () => {
  await runCommand('awaitguard: Restart Server');
  await sleep(500);
  await focusEditor();
  await page.keyboard.press('Control+Z'); // undo the fix-all: the findings come back
  await until('the restarted server to report api.py again', async () => (await ag101Rows('api.py')).length === 2, 60_000);
});

step('settings changes reach the running server (severity), and awaitguard.fixAll: false stops fix on save', async () => {
  // api.py is dirty with its two findings back (previous step). Change the workspace settings
  // on disk, as a user editing .vscode/settings.json would.
  const settingsFile = path.join(ws, '.vscode', 'settings.json');
  const settings = JSON.parse(fs.readFileSync(settingsFile, 'utf8'));
  fs.writeFileSync(
    settingsFile,
    JSON.stringify({ ...settings, 'awaitguard.severity': { AG101: 'warning' }, 'awaitguard.fixAll': false }, null, 2),
  );
  await until('the AG101 problems to turn into warnings', async () => {
    const icons = await page.$$eval('.markers-panel .monaco-list-row', (rows) =>
      rows.filter((r) => r.textContent.includes('AG101')).map((r) => (r.querySelector('.codicon-warning') ? 'warning' : 'other')),
    );
    return icons.length === 2 && icons.every((i) => i === 'warning');
  });
  await focusEditor();
  await page.keyboard.press('Control+S');
  await until('api.py to be saved', () => fs.readFileSync(path.join(ws, 'shop', 'api.py'), 'utf8').includes('total = Book.objects.count()'));
  await sleep(1000); // give a (wrong) fix-on-save the time it would need
  const lines = await editorLines();
  assert.equal(lines[5], '    total = Book.objects.count()', 'no fix on save with awaitguard.fixAll: false');
  assert.equal((await ag101Rows('api.py')).length, 2);
});

step('"awaitguard: Show Output" shows the server log, which names the bundled binary', async () => {
  await runCommand('awaitguard: Show Output');
  await until('the awaitguard output channel', async () => {
    const text = await page.evaluate(() => {
      const panel = document.querySelector('.part.panel');
      return panel ? panel.textContent.replace(/\u00a0/g, ' ') : '';
    });
    return /Starting awaitguard \d+\.\d+\.\d+ \(bundled binary\)/.test(text);
  });
  await screenshot('04-output');
});
