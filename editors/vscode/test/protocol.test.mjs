// Protocol suite: the real awaitguard binary over stdio, driven the way the extension's
// client (vscode-languageclient 9) drives it. Fast: no editor involved.
//
//   node --test test/protocol.test.mjs        (AWAITGUARD_BIN=... to pick the binary)

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, PKG, applyEdits, editsFor } from './lsp-client.mjs';

const URI = 'file:///tmp/awaitguard-protocol/shop/views.py';
const EXAMPLE = [
  'from django.http import JsonResponse',
  'from .models import Book',
  '',
  'async def book_detail(request, pk):',
  '    book = Book.objects.get(pk=pk)',
  '    n = Book.objects.filter(a=1).count()',
  '    return JsonResponse({"t": book.title, "n": n})',
  '',
].join('\n');
const FIXED_GET = '    book = await Book.objects.aget(pk=pk)';
const FIXED_COUNT = '    n = await Book.objects.filter(a=1).acount()';

const lines = (text) => text.split('\n');

/** Runs `body` with a started client, always stopping the server and saving its log. */
async function withClient(t, options, body) {
  const c = new Client({ name: t.name, ...options });
  try {
    await c.start();
    await body(c);
  } finally {
    await c.stop(t.name);
  }
}

function assertExampleFindings(diagnostics) {
  const sorted = [...diagnostics].sort((a, b) => a.range.start.line - b.range.start.line);
  assert.deepEqual(sorted.map((d) => d.range.start.line), [4, 5], 'findings on the get() and count() lines');
  for (const d of sorted) {
    assert.equal(d.source, 'awaitguard');
    assert.equal(d.code, 'AG101');
    assert.equal(d.severity, 1, 'AG101 is an error by default');
  }
  assert.match(sorted[0].message, /`Book\.objects\.get\(\)`/);
  assert.match(sorted[1].message, /\.count\(\)`/);
  return sorted;
}

test('initialize advertises what the extension relies on', async (t) => {
  await withClient(t, { pull: true }, async (c) => {
    const caps = c.init.capabilities;
    assert.equal(caps.positionEncoding, 'utf-16');
    const sync = caps.textDocumentSync;
    assert.equal(typeof sync === 'object' ? sync.change : sync, 2, 'incremental sync');
    assert.ok(caps.codeActionProvider.codeActionKinds.includes('quickfix'));
    assert.ok(caps.codeActionProvider.codeActionKinds.includes('source.fixAll.awaitguard'));
    assert.ok(caps.hoverProvider);
    assert.ok(caps.diagnosticProvider, 'pull diagnostics offered to a client that supports them');
    assert.deepEqual(caps.executeCommandProvider.commands, ['awaitguard.applyFixAll']);
    assert.equal(c.init.serverInfo?.name, 'awaitguard');
    assert.equal(c.init.serverInfo?.version, PKG.version, 'the bundled server matches the extension version');
  });
});

test('a client without pull support gets pushed diagnostics', async (t) => {
  await withClient(t, { pull: false }, async (c) => {
    assert.equal(c.init.capabilities.diagnosticProvider, undefined, 'no diagnosticProvider without client support');
    c.open(URI, EXAMPLE);
    const p = await c.waitFor(() => c.pushed.get(URI)?.diagnostics.length > 0 && c.pushed.get(URI), 'publishDiagnostics');
    assertExampleFindings(p.diagnostics);
  });
});

test('pull diagnostics report the example findings', async (t) => {
  await withClient(t, { pull: true }, async (c) => {
    c.open(URI, EXAMPLE);
    assertExampleFindings(await c.pull(URI));
    assert.equal(c.pushed.size, 0, 'nothing pushed to a pull client');
  });
});

test('the quick fix rewrites the line and the finding goes away', async (t) => {
  await withClient(t, { pull: true }, async (c) => {
    c.open(URI, EXAMPLE);
    const [first] = assertExampleFindings(await c.pull(URI));
    const actions = await c.request('textDocument/codeAction', {
      textDocument: { uri: URI },
      range: first.range,
      context: { diagnostics: [first], triggerKind: 1 },
    });
    const fix = actions.find((a) => a.kind === 'quickfix' && a.title.startsWith('Replace with `await Book.objects.aget('));
    assert.ok(fix, `a "Replace with" quick fix among ${JSON.stringify(actions.map((a) => a.title))}`);
    assert.equal(fix.isPreferred, true);
    assert.deepEqual(fix.diagnostics?.map((d) => d.code), ['AG101']);
    const edits = editsFor(fix.edit, URI);
    assert.ok(edits.length > 0, 'the fix carries an edit');
    const text = c.change(URI, edits);
    assert.equal(lines(text)[4], FIXED_GET);
    assert.equal(lines(text)[5], lines(EXAMPLE)[5], 'the other line is untouched');
    const left = await c.pull(URI);
    assert.deepEqual(left.map((d) => [d.code, d.range.start.line]), [['AG101', 5]]);
  });
});

test('"Disable AG101 for this line" adds a suppression comment', async (t) => {
  await withClient(t, { pull: true }, async (c) => {
    c.open(URI, EXAMPLE);
    const [first] = assertExampleFindings(await c.pull(URI));
    const actions = await c.request('textDocument/codeAction', {
      textDocument: { uri: URI },
      range: first.range,
      context: { diagnostics: [first], only: ['quickfix'] },
    });
    const disable = actions.find((a) => a.title === 'Disable AG101 for this line');
    assert.ok(disable, `a disable action among ${JSON.stringify(actions.map((a) => a.title))}`);
    assert.notEqual(disable.isPreferred, true);
    const text = c.change(URI, editsFor(disable.edit, URI));
    assert.equal(lines(text)[4], '    book = Book.objects.get(pk=pk)  # awaitguard: ignore[AG101]');
    assert.deepEqual((await c.pull(URI)).map((d) => d.range.start.line), [5]);
  });
});

test('source.fixAll.awaitguard fixes every safe finding in one edit', async (t) => {
  await withClient(t, { pull: true }, async (c) => {
    c.open(URI, EXAMPLE);
    assertExampleFindings(await c.pull(URI));
    // What VS Code sends for editor.codeActionsOnSave: {"source.fixAll.awaitguard": ...}
    const actions = await c.request('textDocument/codeAction', {
      textDocument: { uri: URI },
      range: { start: { line: 0, character: 0 }, end: { line: 7, character: 0 } },
      context: { diagnostics: [], only: ['source.fixAll.awaitguard'], triggerKind: 2 },
    });
    assert.equal(actions.length, 1, `one fix-all action, got ${JSON.stringify(actions.map((a) => a.title))}`);
    assert.equal(actions[0].kind, 'source.fixAll.awaitguard');
    const text = c.change(URI, editsFor(actions[0].edit, URI));
    assert.equal(lines(text)[4], FIXED_GET);
    assert.equal(lines(text)[5], FIXED_COUNT);
    assert.deepEqual(await c.pull(URI), []);
    // A generic `source.fixAll` request (VS Code's "Fix All" source action) includes it too.
    const generic = await c.request('textDocument/codeAction', {
      textDocument: { uri: URI },
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      context: { diagnostics: [], only: ['source.fixAll'] },
    });
    assert.ok(Array.isArray(generic), 'the server answers a generic source.fixAll request');
  });
});

test('the awaitguard.applyFixAll command applies the fixes through workspace/applyEdit', async (t) => {
  await withClient(t, { pull: true }, async (c) => {
    c.open(URI, EXAMPLE);
    assertExampleFindings(await c.pull(URI));
    await c.request('workspace/executeCommand', { command: 'awaitguard.applyFixAll', arguments: [URI] });
    const we = await c.waitFor(() => c.appliedEdits[0], 'workspace/applyEdit');
    const text = applyEdits(EXAMPLE, editsFor(we, URI));
    assert.equal(lines(text)[4], FIXED_GET);
    assert.equal(lines(text)[5], FIXED_COUNT);
  });
});

test('settings in initializationOptions, shaped as the extension sends them', async (t) => {
  const settings = { enable: true, path: [], select: [], ignore: [], severity: { AG101: 'warning' }, djangoVersion: '', maxFileSize: '', fixAll: true };
  await withClient(t, { pull: true, initializationOptions: { settings } }, async (c) => {
    c.open(URI, EXAMPLE);
    const items = await c.pull(URI);
    assert.deepEqual(items.map((d) => d.severity), [2, 2]);
    assert.deepEqual(c.shown, [], 'client-only keys (path, fixAll) are accepted silently');
  });
});

test('workspace/didChangeConfiguration changes the findings (pull: refresh, then re-pull)', async (t) => {
  await withClient(t, { pull: true }, async (c) => {
    c.open(URI, EXAMPLE);
    assertExampleFindings(await c.pull(URI));
    const change = async (awaitguard) => {
      const before = c.refreshes;
      // The payload vscode-languageclient sends for the `awaitguard` section.
      c.notify('workspace/didChangeConfiguration', { settings: { awaitguard } });
      await c.waitFor(() => c.refreshes > before, 'workspace/diagnostic/refresh');
      return c.pull(URI);
    };
    assert.deepEqual(await change({ enable: true, ignore: ['AG101'] }), []);
    assert.deepEqual((await change({ enable: true, severity: { AG101: 'hint' } })).map((d) => d.severity), [4, 4]);
    assert.deepEqual(await change({ enable: false }), []);
    assertExampleFindings(await change({ enable: true, path: [], fixAll: false }));
  });
});

test('workspace/didChangeConfiguration re-publishes for a push client', async (t) => {
  await withClient(t, { pull: false }, async (c) => {
    c.open(URI, EXAMPLE);
    await c.waitFor(() => c.pushed.get(URI)?.diagnostics.length === 2, 'two pushed findings');
    c.notify('workspace/didChangeConfiguration', { settings: { awaitguard: { ignore: ['AG101'] } } });
    await c.waitFor(() => c.pushed.get(URI)?.diagnostics.length === 0, 'an empty publication');
  });
});

test('settings come from workspace/configuration, and a null change re-reads them', async (t) => {
  await withClient(t, { pull: true, configuration: true, settings: { severity: { AG101: 'info' } } }, async (c) => {
    // The answer changes the settings, so the server asks for a refresh once it applied them.
    await c.waitFor(() => c.configurationRequests > 0 && c.refreshes > 0, 'workspace/configuration, then a refresh');
    c.open(URI, EXAMPLE);
    const first = await c.pull(URI);
    assert.deepEqual(first.map((d) => d.severity), [3, 3]);
    const requests = c.configurationRequests;
    const refreshes = c.refreshes;
    c.settings = { ignore: ['AG101'] };
    c.notify('workspace/didChangeConfiguration', { settings: null });
    await c.waitFor(() => c.configurationRequests > requests && c.refreshes > refreshes, 're-request and refresh');
    assert.deepEqual(await c.pull(URI), []);
  });
});

test('djangoVersion below 4.1 switches the fix to sync_to_async', async (t) => {
  await withClient(t, { pull: true, initializationOptions: { settings: { djangoVersion: '4.0' } } }, async (c) => {
    c.open(URI, EXAMPLE);
    const [first] = assertExampleFindings(await c.pull(URI));
    const actions = await c.request('textDocument/codeAction', {
      textDocument: { uri: URI },
      range: first.range,
      context: { diagnostics: [first] },
    });
    const fix = actions.find((a) => a.isPreferred);
    assert.ok(fix, 'a preferred fix');
    assert.match(fix.title, /sync_to_async/);
  });
});

test('hover on a finding explains the rule', async (t) => {
  await withClient(t, { pull: true }, async (c) => {
    c.open(URI, EXAMPLE);
    const [first] = assertExampleFindings(await c.pull(URI));
    const hover = await c.request('textDocument/hover', { textDocument: { uri: URI }, position: first.range.start });
    assert.ok(hover, 'a hover');
    assert.match(JSON.stringify(hover.contents), /AG101/);
  });
});

test('Rust documents are accepted', async (t) => {
  await withClient(t, { pull: true }, async (c) => {
    const uri = 'file:///tmp/awaitguard-protocol/src/main.rs';
    c.open(uri, 'async fn handler() {\n    let x = 1;\n}\n', 'rust');
    assert.deepEqual(await c.pull(uri), []);
  });
});

test('shutdown and exit end the server with status 0', async (t) => {
  const c = new Client({ name: t.name, pull: true });
  await c.start();
  await c.stop(t.name);
  assert.deepEqual(c.exitStatus, { code: 0, signal: null });
});
