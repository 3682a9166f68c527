// A small LSP client for the protocol suite: spawns the real server binary over stdio and
// speaks to it with vscode-languageserver-protocol, recording every message for the log.

import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const proto = require('vscode-languageserver-protocol/node');

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = path.resolve(ROOT, '..', '..');
export const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

/** The binary under test: $AWAITGUARD_BIN, else the one bundled for packaging, else cargo's
 * (in $CARGO_TARGET_DIR when set, relative to the repository, else ./target). */
export function serverBinary() {
  const exe = process.platform === 'win32' ? 'awaitguard.exe' : 'awaitguard';
  const target = path.resolve(REPO, process.env.CARGO_TARGET_DIR || 'target');
  const candidates = [
    process.env.AWAITGUARD_BIN,
    path.join(ROOT, 'bin', `${process.platform}-${process.arch}`, exe),
    path.join(target, 'release', exe),
    path.join(target, 'debug', exe),
  ].filter(Boolean);
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`no awaitguard binary; tried ${candidates.join(', ')}`);
  return found;
}

const ARTIFACTS = process.env.AWAITGUARD_ARTIFACTS;

/** Waits until `check()` returns a truthy value, re-checking whenever `emitter` emits. */
export function waitFor(emitter, check, what, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      let v;
      try {
        v = check();
      } catch (e) {
        finish();
        reject(e);
        return;
      }
      if (v) {
        finish();
        resolve(v);
      }
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    timer.unref();
    const finish = () => {
      clearTimeout(timer);
      emitter.off('event', attempt);
    };
    emitter.on('event', attempt);
    attempt();
  });
}

export class Client extends EventEmitter {
  /**
   * @param {object} o
   * @param {string} o.name       used for the log file name
   * @param {boolean} [o.pull]    advertise textDocument.diagnostic (pull diagnostics)
   * @param {boolean} [o.configuration] advertise workspace/configuration
   * @param {object} [o.initializationOptions]
   * @param {object} [o.settings] what workspace/configuration answers for `awaitguard`
   * @param {string} [o.rootUri]
   */
  constructor(o) {
    super();
    this.o = { pull: true, configuration: false, ...o };
    this.settings = o.settings ?? {};
    this.pushed = new Map(); // uri -> {version, diagnostics}
    this.refreshes = 0;
    this.configurationRequests = 0;
    this.appliedEdits = [];
    this.shown = [];
    this.log = [];
    this.stderr = '';
  }

  async start() {
    const bin = serverBinary();
    this.proc = spawn(bin, ['lsp', '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    this.proc.stderr.on('data', (d) => {
      this.stderr += d.toString();
    });
    this.proc.on('error', (e) => this.record('spawn error', e.message));
    const c = proto.createProtocolConnection(
      new proto.StreamMessageReader(this.proc.stdout),
      new proto.StreamMessageWriter(this.proc.stdin),
    );
    this.conn = c;
    c.onNotification('textDocument/publishDiagnostics', (p) => {
      this.record('<- publishDiagnostics', p);
      this.pushed.set(p.uri, p);
      this.emit('event');
    });
    c.onNotification('window/logMessage', (p) => this.record('<- logMessage', p));
    c.onNotification('window/showMessage', (p) => {
      this.record('<- showMessage', p);
      this.shown.push(p);
      this.emit('event');
    });
    c.onRequest('client/registerCapability', (p) => {
      this.record('<- registerCapability', p);
      return null;
    });
    c.onRequest('workspace/configuration', (p) => {
      this.configurationRequests++;
      this.record('<- workspace/configuration', p);
      const answer = p.items.map((i) => (i.section === 'awaitguard' ? this.settings : null));
      this.record('-> configuration answer', answer);
      this.emit('event');
      return answer;
    });
    c.onRequest('workspace/diagnostic/refresh', () => {
      this.refreshes++;
      this.record('<- workspace/diagnostic/refresh', null);
      this.emit('event');
      return null;
    });
    c.onRequest('workspace/applyEdit', (p) => {
      this.record('<- workspace/applyEdit', p);
      this.appliedEdits.push(p.edit);
      this.emit('event');
      return { applied: true };
    });
    c.onError((e) => this.record('connection error', String(e)));
    c.listen();

    const pull = this.o.pull;
    this.init = await this.request('initialize', {
      processId: process.pid,
      clientInfo: { name: 'awaitguard-protocol-tests' },
      rootUri: this.o.rootUri ?? null,
      workspaceFolders: this.o.rootUri ? [{ uri: this.o.rootUri, name: 'ws' }] : null,
      initializationOptions: this.o.initializationOptions,
      capabilities: {
        general: { positionEncodings: ['utf-16'] },
        textDocument: {
          synchronization: { dynamicRegistration: false, didSave: true },
          publishDiagnostics: { versionSupport: true, codeDescriptionSupport: true, dataSupport: true },
          codeAction: {
            codeActionLiteralSupport: { codeActionKind: { valueSet: ['', 'quickfix', 'source', 'source.fixAll'] } },
            isPreferredSupport: true,
            dataSupport: true,
          },
          hover: { contentFormat: ['markdown', 'plaintext'] },
          ...(pull ? { diagnostic: { dynamicRegistration: false, relatedDocumentSupport: false } } : {}),
        },
        workspace: {
          applyEdit: true,
          workspaceEdit: { documentChanges: true },
          configuration: this.o.configuration,
          didChangeConfiguration: { dynamicRegistration: true },
          ...(pull ? { diagnostics: { refreshSupport: true } } : {}),
        },
      },
    });
    this.notify('initialized', {});
    return this.init;
  }

  record(what, data) {
    this.log.push(`${new Date().toISOString()} ${what} ${data === undefined ? '' : JSON.stringify(data)}`);
  }

  async request(method, params) {
    this.record(`-> ${method}`, params);
    // (vscode-jsonrpc sends an untyped `null` as `[null]`: omit absent params instead)
    const r = await (params == null ? this.conn.sendRequest(method) : this.conn.sendRequest(method, params));
    this.record(`<- ${method} result`, r);
    return r;
  }

  notify(method, params) {
    this.record(`-> ${method}`, params);
    return params == null ? this.conn.sendNotification(method) : this.conn.sendNotification(method, params);
  }

  open(uri, text, languageId = 'python') {
    this.docs ??= new Map();
    this.docs.set(uri, { text, version: 1 });
    this.notify('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
  }

  /** Applies text edits locally and sends them as incremental changes. */
  change(uri, edits) {
    const d = this.docs.get(uri);
    d.version++;
    // Send in reverse document order so earlier edits do not shift later ranges.
    const sorted = [...edits].sort((a, b) => compare(b.range.start, a.range.start));
    for (const e of sorted) d.text = applyEdits(d.text, [e]);
    this.notify('textDocument/didChange', {
      textDocument: { uri, version: d.version },
      contentChanges: sorted.map((e) => ({ range: e.range, text: e.newText })),
    });
    return d.text;
  }

  text(uri) {
    return this.docs.get(uri).text;
  }

  async pull(uri) {
    const r = await this.request('textDocument/diagnostic', { textDocument: { uri } });
    if (r.kind !== 'full') throw new Error(`expected a full report, got ${JSON.stringify(r)}`);
    return r.items;
  }

  waitFor(check, what, timeoutMs) {
    return waitFor(this, check, what, timeoutMs);
  }

  async stop(testName) {
    try {
      if (this.conn && this.proc.exitCode === null) {
        try {
          await Promise.race([this.request('shutdown'), sleep(3000)]);
          await this.notify('exit');
        } catch (e) {
          this.record('shutdown failed', String(e));
        }
      }
      const exit = await Promise.race([this.exited, sleep(3000).then(() => null)]);
      this.exitStatus = exit;
      if (exit === null) this.record('server did not exit within 3 s after `exit`', null);
      else this.record('server exited', exit);
    } finally {
      if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
      this.conn?.dispose();
      if (ARTIFACTS) {
        fs.mkdirSync(ARTIFACTS, { recursive: true });
        const file = path.join(ARTIFACTS, `protocol-${(testName ?? this.o.name).replace(/[^a-z0-9]+/gi, '-')}.log`);
        fs.writeFileSync(file, `${this.log.join('\n')}\n--- server stderr ---\n${this.stderr}`);
      }
    }
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms).unref());
}

function compare(a, b) {
  return a.line - b.line || a.character - b.character;
}

function offsetAt(text, pos) {
  let off = 0;
  for (let line = 0; line < pos.line; line++) {
    const nl = text.indexOf('\n', off);
    if (nl < 0) return text.length;
    off = nl + 1;
  }
  return Math.min(off + pos.character, text.length); // JS strings are UTF-16, like the positions
}

/** Applies LSP TextEdits (non-overlapping) to a string. */
export function applyEdits(text, edits) {
  const sorted = [...edits].sort((a, b) => compare(b.range.start, a.range.start));
  for (const e of sorted) {
    text = text.slice(0, offsetAt(text, e.range.start)) + e.newText + text.slice(offsetAt(text, e.range.end));
  }
  return text;
}

/** The TextEdits a WorkspaceEdit makes to one document (either `changes` or `documentChanges`). */
export function editsFor(we, uri) {
  if (we.documentChanges) {
    return we.documentChanges.filter((dc) => dc.textDocument?.uri === uri).flatMap((dc) => dc.edits);
  }
  return we.changes?.[uri] ?? [];
}
