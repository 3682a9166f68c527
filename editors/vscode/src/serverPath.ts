// Finding the awaitguard executable. Kept free of the `vscode` module so the test suite can
// run it under plain Node.
//
// Order: the `awaitguard.path` setting (command + args) -> the binary bundled in the .vsix
// under bin/<platform>-<arch>/ -> `awaitguard` on PATH. Each candidate is probed with
// `--version`; the first that answers "awaitguard X.Y.Z" wins. When none does, every attempt
// and why it failed is returned so the user can be told exactly what was tried.

import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export type Source = 'setting awaitguard.path' | 'bundled binary' | 'PATH';

export interface Candidate {
  source: Source;
  command: string;
  /** Arguments before the `lsp` subcommand (from the setting; empty otherwise). */
  args: string[];
}

export interface Attempt {
  candidate: Candidate;
  /** Why this candidate was not used; undefined for the one that works. */
  error?: string;
  version?: string;
}

export interface Resolution {
  found?: Attempt;
  attempts: Attempt[];
}

export interface ResolveOptions {
  /** The `awaitguard.path` setting as the user wrote it (may be empty or undefined). */
  configured?: readonly string[];
  /** The extension's install folder (holds bin/). */
  extensionPath: string;
  /** The first workspace folder, for `${workspaceFolder}` and relative paths in the setting. */
  workspaceFolder?: string;
  platform?: NodeJS.Platform;
  arch?: string;
  /** Probe timeout for the bundled binary and PATH (ms). The setting gets 4x this. */
  timeoutMs?: number;
}

export function executableName(platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? 'awaitguard.exe' : 'awaitguard';
}

/** Where the .vsix carries the server for a platform: bin/<platform>-<arch>/awaitguard[.exe]. */
export function bundledPath(extensionPath: string, platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  return path.join(extensionPath, 'bin', `${platform}-${arch}`, executableName(platform));
}

/** Expands `~`, `${workspaceFolder}` and `${userHome}`; a relative path with a separator is
 *  taken relative to the workspace folder (a bare name is left for the PATH lookup). */
export function expandCommand(command: string, workspaceFolder?: string): string {
  let c = command.trim();
  if (c === '~' || c.startsWith('~/') || c.startsWith('~\\')) {
    c = path.join(os.homedir(), c.slice(1));
  }
  c = c.replace(/\$\{userHome\}/g, os.homedir());
  if (workspaceFolder) {
    c = c.replace(/\$\{workspaceFolder\}/g, workspaceFolder);
    if (!path.isAbsolute(c) && /[\\/]/.test(c)) {
      c = path.join(workspaceFolder, c);
    }
  }
  return c;
}

export function candidates(opts: ResolveOptions): Candidate[] {
  const out: Candidate[] = [];
  const configured = (opts.configured ?? []).filter((s) => typeof s === 'string' && s.trim() !== '');
  if (configured.length > 0) {
    out.push({
      source: 'setting awaitguard.path',
      command: expandCommand(configured[0], opts.workspaceFolder),
      args: configured.slice(1).map((a) => (opts.workspaceFolder ? a.replace(/\$\{workspaceFolder\}/g, opts.workspaceFolder) : a)),
    });
  }
  out.push({ source: 'bundled binary', command: bundledPath(opts.extensionPath, opts.platform, opts.arch), args: [] });
  out.push({ source: 'PATH', command: executableName(opts.platform), args: [] });
  return out;
}

/** Runs `<command> <args> --version`; resolves to the version or rejects with a reason. */
export function probe(c: Candidate, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    if (c.source === 'bundled binary') {
      if (!fs.existsSync(c.command)) {
        reject(new Error('not bundled for this platform'));
        return;
      }
      // Some unzip paths drop the executable bit; restore it (our own file, not workspace code).
      try {
        fs.accessSync(c.command, fs.constants.X_OK);
      } catch {
        try {
          fs.chmodSync(c.command, 0o755);
        } catch {
          /* the probe below reports the real error */
        }
      }
    }
    execFile(c.command, [...c.args, '--version'], { timeout: timeoutMs, windowsHide: true }, (err, stdout, stderr) => {
      if (err) {
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
        if (e.code === 'ENOENT') reject(new Error('not found'));
        else if (e.code === 'EACCES') reject(new Error('not executable'));
        else if (e.killed) reject(new Error(`no answer to --version within ${timeoutMs} ms`));
        else {
          const detail = (stderr || stdout || e.message).toString().trim().split('\n')[0];
          reject(new Error(`\`--version\` failed${typeof e.code === 'number' ? ` (exit ${e.code})` : ''}: ${detail}`));
        }
        return;
      }
      const m = /^awaitguard\s+(\S+)/m.exec(stdout.toString());
      if (!m) {
        reject(new Error(`\`--version\` printed ${JSON.stringify(stdout.toString().trim().slice(0, 80))}, not "awaitguard <version>"`));
        return;
      }
      resolve(m[1]);
    });
  });
}

export async function resolveServer(opts: ResolveOptions): Promise<Resolution> {
  const timeout = opts.timeoutMs ?? 10_000;
  const attempts: Attempt[] = [];
  for (const c of candidates(opts)) {
    try {
      const version = await probe(c, c.source === 'setting awaitguard.path' ? timeout * 4 : timeout);
      const a: Attempt = { candidate: c, version };
      attempts.push(a);
      return { found: a, attempts };
    } catch (e) {
      attempts.push({ candidate: c, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return { attempts };
}

export function describe(c: Candidate): string {
  return [c.command, ...c.args].map((p) => (/\s/.test(p) ? JSON.stringify(p) : p)).join(' ');
}

/** One line per attempt, for the error notification and the output channel. */
export function explainFailure(r: Resolution): string {
  const tried = r.attempts.map((a, i) => `(${i + 1}) ${a.candidate.source}: ${describe(a.candidate)} — ${a.error}`);
  return `Could not start the awaitguard language server. Tried ${tried.join('; ')}. ` +
    'Put awaitguard on PATH or set "awaitguard.path" to its command, e.g. ["/usr/local/bin/awaitguard"].';
}
