// The `awaitguard.*` settings as the server receives them (initializationOptions and
// workspace/configuration). Client-only keys (`path`, `fixAll`, `trace`) ride along; the
// server ignores them.

import * as vscode from 'vscode';

export type Severity = 'error' | 'warning' | 'info' | 'hint';

export interface Settings {
  enable: boolean;
  path: string[];
  select: string[];
  ignore: string[];
  severity: Record<string, Severity>;
  djangoVersion: string;
  maxFileSize: string;
  ruleDocsUrl: string;
  fixAll: boolean;
}

export const SECTION = 'awaitguard';

export function read(scope?: vscode.ConfigurationScope): Settings {
  const c = vscode.workspace.getConfiguration(SECTION, scope);
  const list = (key: string): string[] => {
    const v = c.get<unknown>(key);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  };
  const severity = c.get<unknown>('severity');
  return {
    enable: c.get<boolean>('enable', true),
    path: list('path'),
    select: list('select'),
    ignore: list('ignore'),
    severity: severity && typeof severity === 'object' ? { ...(severity as Record<string, Severity>) } : {},
    djangoVersion: c.get<string>('djangoVersion', '') ?? '',
    maxFileSize: String(c.get<string | number>('maxFileSize', '') ?? ''),
    ruleDocsUrl: c.get<string>('ruleDocsUrl', '') ?? '',
    fixAll: c.get<boolean>('fixAll', true),
  };
}
