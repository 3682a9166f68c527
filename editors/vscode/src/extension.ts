// The awaitguard VS Code extension: starts `awaitguard lsp` over stdio through
// vscode-languageclient and adds three commands (restart, fix all, show output).
//
// Settings reach the server three ways: as initializationOptions ({settings: {...}}), through
// workspace/configuration (section `awaitguard`, answered by the client library), and through
// workspace/didChangeConfiguration, which the client library sends for the `awaitguard`
// section (the server registers for it; `synchronize.configurationSection` is set as well so
// a server that does not register still hears about changes).

import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
  TransportKind,
} from 'vscode-languageclient/node';
import { describe, explainFailure, resolveServer } from './serverPath';
import * as settings from './settings';

const FIX_ALL_KIND = vscode.CodeActionKind.SourceFixAll.append('awaitguard');
const SERVER_FIX_ALL_COMMAND = 'awaitguard.applyFixAll';
const LANGUAGES = ['python', 'rust'];
/**
 * Configuration files the server checks for AG307 (`DJANGO_ALLOW_ASYNC_UNSAFE`), matched by
 * name: their language ids vary (`dotenv`, `dockerfile`, `yaml`, `ini`, `toml`, `plaintext`).
 * The server recognises them by name too, and gives other files nothing.
 */
const CONFIG_FILES = [
  '**/.env',
  '**/.env.*',
  '**/*.env',
  '**/[Dd]ockerfile',
  '**/[Dd]ockerfile.*',
  '**/*.[Dd]ockerfile',
  '**/docker-compose*.{yml,yaml}',
  '**/compose*.{yml,yaml}',
  '**/{pytest.ini,pyproject.toml,setup.cfg,tox.ini}',
];

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;
let extensionPath: string;
/** Serialises start/stop/restart so overlapping requests cannot start two servers. */
let lifecycle: Promise<void> = Promise.resolve();

function log(line: string): void {
  output.appendLine(`[${new Date().toISOString()}] ${line}`);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  extensionPath = context.extensionPath;
  output = vscode.window.createOutputChannel('awaitguard');
  context.subscriptions.push(output);

  context.subscriptions.push(
    vscode.commands.registerCommand('awaitguard.restart', () => {
      log('Restarting the server (awaitguard: Restart Server)');
      return queue(restart);
    }),
    vscode.commands.registerCommand('awaitguard.executeAutofix', fixAllInActiveEditor),
    vscode.commands.registerCommand('awaitguard.showOutput', () => output.show(true)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      // The server command itself changed: only a new process can pick that up.
      if (e.affectsConfiguration('awaitguard.path')) {
        log('awaitguard.path changed: restarting the server');
        void queue(restart);
      }
    }),
  );

  await queue(start);
}

export async function deactivate(): Promise<void> {
  await queue(stop);
}

function queue(step: () => Promise<void>): Promise<void> {
  lifecycle = lifecycle.then(step, step);
  return lifecycle;
}

async function restart(): Promise<void> {
  await stop();
  await start();
}

async function stop(): Promise<void> {
  const c = client;
  client = undefined;
  if (!c) return;
  try {
    if (c.needsStop()) await c.stop(5000);
  } catch (e) {
    log(`Stopping the server failed: ${errorText(e)}`);
  }
  try {
    await c.dispose();
  } catch {
    /* already gone */
  }
}

async function start(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const current = settings.read();
  const resolution = await resolveServer({
    configured: current.path,
    extensionPath,
    workspaceFolder: folder?.scheme === 'file' ? folder.fsPath : undefined,
  });
  for (const a of resolution.attempts) {
    log(`Server candidate (${a.candidate.source}) ${describe(a.candidate)}: ${a.error ?? `awaitguard ${a.version}`}`);
  }
  const found = resolution.found;
  if (!found) {
    const message = explainFailure(resolution);
    log(message);
    void vscode.window.showErrorMessage(message, 'Open Settings', 'Show Output').then((choice) => {
      if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'awaitguard.path');
      if (choice === 'Show Output') output.show(true);
    });
    return;
  }

  const run = {
    command: found.candidate.command,
    args: [...found.candidate.args, 'lsp'],
    transport: TransportKind.stdio,
  };
  const serverOptions: ServerOptions = { run, debug: run };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      ...LANGUAGES.flatMap((language) => [
        { scheme: 'file', language },
        { scheme: 'untitled', language },
      ]),
      ...CONFIG_FILES.map((pattern) => ({ scheme: 'file', pattern })),
    ],
    outputChannel: output,
    traceOutputChannel: output,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    initializationOptions: { settings: current },
    synchronize: { configurationSection: settings.SECTION },
    middleware: {
      // `awaitguard.fixAll: false` hides the fix-all source action, which turns it off for
      // `editor.codeActionsOnSave` and the Source Action menu alike.
      async provideCodeActions(document, range, context, token, next) {
        const actions = await next(document, range, context, token);
        if (!actions || settings.read(document).fixAll) return actions;
        return actions.filter((a) => !(a instanceof vscode.CodeAction && a.kind && FIX_ALL_KIND.contains(a.kind)));
      },
    },
  };

  log(`Starting awaitguard ${found.version} (${found.candidate.source}): ${describe(found.candidate)} lsp --stdio`);
  const c = new LanguageClient('awaitguard', 'awaitguard', serverOptions, clientOptions);
  let reported = false;
  const reportStartFailure = (detail: string) => {
    if (reported) return;
    reported = true;
    const message = `awaitguard: the language server (${describe(found.candidate)} lsp) failed to start: ${detail}`;
    log(message);
    void vscode.window.showErrorMessage(message, 'Show Output').then((choice) => {
      if (choice) output.show(true);
    });
  };
  c.onDidChangeState((e) => {
    if (client !== c || e.newState !== State.Stopped) return;
    log('The server stopped.');
    // Stopped before it ever ran: initialize failed or the process died at once.
    if (e.oldState === State.Starting) reportStartFailure('it exited during initialization (its stderr is in this output channel)');
  });
  client = c;
  try {
    await c.start();
  } catch (e) {
    reportStartFailure(errorText(e));
  }
}

async function fixAllInActiveEditor(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || !LANGUAGES.includes(editor.document.languageId)) {
    void vscode.window.showInformationMessage('awaitguard: open a Python or Rust file to fix.');
    return;
  }
  const c = client;
  if (!c || !c.isRunning()) {
    void vscode.window.showErrorMessage('awaitguard: the language server is not running.', 'Show Output').then((choice) => {
      if (choice) output.show(true);
    });
    return;
  }
  try {
    // The server answers with workspace/applyEdit, which the client applies.
    await c.sendRequest(ExecuteCommandRequest.type, {
      command: SERVER_FIX_ALL_COMMAND,
      arguments: [c.code2ProtocolConverter.asUri(editor.document.uri)],
    });
  } catch (e) {
    log(`Fix all failed: ${errorText(e)}`);
    void vscode.window.showErrorMessage(`awaitguard: fix all failed: ${errorText(e)}`);
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
