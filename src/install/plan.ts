/**
 * Install and uninstall as plan → apply. Planning reads files and computes their new contents;
 * applying writes them (timestamped backup of each changed existing file, temp file + rename).
 * A dry run prints the plan's diff and never applies it.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { TransportMode } from '../config/schema.js';
import { unifiedDiff } from './diff.js';
import { HOOK_PATH_ENV, PORTABLE_HOOK_COMMAND, TOKEN_ENV, hookEntries, shellQuote } from './hook-entries.js';
import {
  InstallError,
  addOurHooks,
  assertEditable,
  deepEqual,
  removeEnvValue,
  removeOurHooks,
  setEnvValue,
  type Settings,
} from './settings-edit.js';

export { InstallError } from './settings-edit.js';

export type InstallScope = 'user' | 'project' | 'local';

export interface InstallOptions {
  scope: InstallScope;
  transport: TransportMode;
  /** Project directory (for scopes project and local). */
  projectDir: string;
  /** The user's home directory: holds ~/.claude/settings.json. */
  home: string;
  /** Absolute path of bin/claude-otel-hook. */
  hookScript: string;
  /** Agent port (http hooks). */
  port: number;
  /** CLAUDE_OTEL_HOME (default `<home>/.claude-otel`): holds the token file. */
  stateDir?: string;
}

export type UninstallOptions = Pick<InstallOptions, 'scope' | 'projectDir' | 'home'> & { port?: number };

export interface FileChange {
  path: string;
  existed: boolean;
  /** File content as read ('' when absent). */
  before: string;
  /** Content to write. */
  after: string;
  /** False when the file already means what we want (nothing is written, no backup). */
  changed: boolean;
  /** Whether the file will hold the token (created with mode 0600). */
  holdsSecret: boolean;
}

export interface TokenPlan {
  path: string;
  value: string;
  /** True when the token file does not exist yet and apply creates it. */
  create: boolean;
}

export interface InstallPlan {
  action: 'install' | 'uninstall';
  scope: InstallScope;
  files: FileChange[];
  token?: TokenPlan;
  notes: string[];
}

export interface ApplyResult {
  written: string[];
  backups: string[];
  /** Older backups from which the token was removed. */
  scrubbed?: string[];
  tokenCreated?: string;
}

export interface ApplyOptions {
  now?: () => Date;
}

/** Claude Code's settings file of each scope. */
export function settingsPaths(home: string, projectDir: string): Record<InstallScope, string> {
  return {
    user: join(home, '.claude', 'settings.json'),
    project: join(projectDir, '.claude', 'settings.json'),
    local: join(projectDir, '.claude', 'settings.local.json'),
  };
}

/** The settings files a scope uses: where our hooks go, and the private file that gets the token. */
export function settingsFiles(scope: InstallScope, home: string, projectDir: string): { hooks: string; env: string } {
  const { user, project, local } = settingsPaths(home, projectDir);
  switch (scope) {
    case 'user':
      return { hooks: user, env: user };
    case 'project':
      // The shared, committed file gets the hooks; the token never goes there.
      return { hooks: project, env: local };
    case 'local':
      return { hooks: local, env: local };
  }
}

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,256}$/;

export function tokenPath(stateDir: string): string {
  return join(stateDir, 'token');
}

/** Reads the agent token, or plans a new one (32 random bytes, hex) when the file is absent. */
export function planToken(stateDir: string): TokenPlan {
  const path = tokenPath(stateDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return { path, value: randomBytes(32).toString('hex'), create: true };
  }
  if (!TOKEN_PATTERN.test(text)) {
    throw new InstallError(`${path} does not hold a valid token; delete it to have a new one created, nothing was changed`);
  }
  return { path, value: text, create: false };
}

function readSettings(path: string): { existed: boolean; text: string; settings: Settings } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { existed: false, text: '', settings: {} };
    throw err;
  }
  if (text.trim() === '') return { existed: true, text, settings: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InstallError(
      `${path} is not valid JSON (${(err as Error).message}); fix or move the file and run again, nothing was changed`,
    );
  }
  assertEditable(parsed, path);
  return { existed: true, text, settings: parsed };
}

type Edit = (settings: Settings) => Settings;

/**
 * Serializes in the file's own layout: its indentation (the first indented line's: spaces or a tab;
 * 2 spaces for a new file) and whether it ends with a newline. A file in JSON.stringify's layout
 * (Claude Code writes its settings that way) thus comes back byte for byte after install + uninstall.
 */
export function serializeLike(settings: Settings, text: string): string {
  const indent = /^[{[]\s*\n([ \t]+)\S/.exec(text)?.[1] ?? '  ';
  const newline = text === '' || text.endsWith('\n') ? '\n' : '';
  return `${JSON.stringify(settings, null, indent)}${newline}`;
}

function planEdits(editsByPath: Map<string, { edits: Edit[]; holdsSecret: boolean }>): FileChange[] {
  const files: FileChange[] = [];
  for (const [path, { edits, holdsSecret }] of editsByPath) {
    const current = readSettings(path);
    const next = edits.reduce((s, edit) => edit(s), current.settings);
    const changed = !deepEqual(current.settings, next) && (current.existed || Object.keys(next).length > 0);
    files.push({
      path,
      existed: current.existed,
      before: current.text,
      after: changed ? serializeLike(next, current.text) : current.text,
      changed,
      holdsSecret,
    });
  }
  return files;
}

function addEdit(map: Map<string, { edits: Edit[]; holdsSecret: boolean }>, path: string, edit: Edit, holdsSecret = false): void {
  const entry = map.get(path) ?? { edits: [], holdsSecret: false };
  entry.edits.push(edit);
  entry.holdsSecret ||= holdsSecret;
  map.set(path, entry);
}

export function planInstall(options: InstallOptions): InstallPlan {
  const { scope, transport, projectDir, home, hookScript, port } = options;
  const stateDir = options.stateDir ?? join(home, '.claude-otel');
  const files = settingsFiles(scope, home, projectDir);
  // Project scope: the shared file names no path of this machine; the private one says where the script is.
  const portable = scope === 'project';
  const entries = hookEntries(transport, { hookCommand: portable ? PORTABLE_HOOK_COMMAND : shellQuote(hookScript), port });
  const edits = new Map<string, { edits: Edit[]; holdsSecret: boolean }>();
  const notes: string[] = [];
  addEdit(edits, files.hooks, (s) => addOurHooks(s, entries, port));
  addEdit(edits, files.env, (s) => (portable ? setEnvValue(s, HOOK_PATH_ENV, hookScript) : removeEnvValue(s, HOOK_PATH_ENV)));
  let token: TokenPlan | undefined;
  if (transport === 'http') {
    token = planToken(stateDir);
    const value = token.value;
    addEdit(edits, files.env, (s) => setEnvValue(s, TOKEN_ENV, value), true);
    if (token.create) notes.push(`A new agent token will be written to ${token.path} (mode 0600).`);
  } else {
    // Durable command hooks read the token file themselves; don't leave a stale copy behind.
    addEdit(edits, files.env, (s) => removeEnvValue(s, TOKEN_ENV));
  }
  if (!existsSync(hookScript)) notes.push(`Warning: the hook script ${hookScript} does not exist (yet).`);
  if (scope === 'project') {
    notes.push(
      `Hooks go to ${files.hooks} (shared, usually committed; it names no path of this machine): they run $${HOOK_PATH_ENV}, else claude-otel-hook from PATH, else nothing. ${HOOK_PATH_ENV}${transport === 'http' ? ' and the token go' : ' goes'} to ${files.env}, which stays out of git.`,
    );
    if (transport === 'http') {
      notes.push(`Teammates need the token of their own agent for the http hooks: each runs \`claude-otel install --scope project\` in their clone (it leaves the shared file as it is), or install with --transport durable, which needs no token.`);
    }
  }
  return { action: 'install', scope, files: planEdits(edits), ...(token ? { token } : {}), notes };
}

export function planUninstall(options: UninstallOptions): InstallPlan {
  const files = settingsFiles(options.scope, options.home, options.projectDir);
  const edits = new Map<string, { edits: Edit[]; holdsSecret: boolean }>();
  addEdit(edits, files.hooks, (s) => removeOurHooks(s, options.port).settings);
  addEdit(edits, files.env, (s) => removeEnvValue(removeEnvValue(s, TOKEN_ENV), HOOK_PATH_ENV));
  return { action: 'uninstall', scope: options.scope, files: planEdits(edits), notes: [] };
}

/** Text for --dry-run: a diff per changed file; the token never appears in it. */
export function formatPlan(plan: InstallPlan): string {
  const mask = (text: string): string =>
    plan.token ? text.split(plan.token.value).join(`<token from ${plan.token.path}>`) : text;
  const parts: string[] = [];
  for (const file of plan.files) {
    if (!file.changed) {
      parts.push(`${file.path}: unchanged`);
      continue;
    }
    parts.push(
      unifiedDiff(
        mask(file.before),
        mask(file.after),
        file.existed ? file.path : '/dev/null',
        file.path,
      ).trimEnd(),
    );
  }
  parts.push(...plan.notes);
  return `${parts.join('\n')}\n`;
}

function timestamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

function writeAtomic(path: string, content: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

const TOKEN_VALUE = new RegExp(`("${TOKEN_ENV}"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'g');

/** The settings text with the value of our token key replaced: backups never keep the token. */
export function scrubToken(text: string): string {
  return text.replace(TOKEN_VALUE, '$1"<removed by claude-otel>"');
}

/** Removes the token from backups of `path` left by earlier installs (they outlived uninstall or rotation). */
function scrubOldBackups(path: string): string[] {
  const scrubbed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return scrubbed;
  }
  for (const name of names) {
    if (!name.startsWith(`${basename(path)}.bak-`)) continue;
    const full = join(dirname(path), name);
    const stat = lstatSync(full);
    if (!stat.isFile()) continue; // never through a link
    const text = readFileSync(full, 'utf8');
    const clean = scrubToken(text);
    if (clean === text) continue;
    writeAtomic(full, clean, stat.mode & 0o777);
    scrubbed.push(full);
  }
  return scrubbed;
}

function backupPath(path: string, now: Date): string {
  const base = `${path}.bak-${timestamp(now)}`;
  let candidate = base;
  for (let n = 1; existsSync(candidate); n++) candidate = `${base}-${n}`;
  return candidate;
}

/** Writes the plan: token file first, then each changed settings file (backup, temp + rename). */
export function applyInstall(plan: InstallPlan, options: ApplyOptions = {}): ApplyResult {
  const now = (options.now ?? (() => new Date()))();
  const result: ApplyResult = { written: [], backups: [] };
  // Refuse if a file changed since it was planned: our diff would no longer be what gets written.
  for (const file of plan.files) {
    if (!file.changed) continue;
    const current = existsSync(file.path) ? readFileSync(file.path, 'utf8') : undefined;
    if ((current ?? '') !== file.before || (current !== undefined) !== file.existed) {
      throw new InstallError(`${file.path} changed since the plan was made; run again, nothing was changed`);
    }
  }
  if (plan.token?.create) {
    mkdirSync(dirname(plan.token.path), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(plan.token.path, `${plan.token.value}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new InstallError(`${plan.token.path} appeared while installing; run again, nothing was changed`);
      }
      throw err;
    }
    result.tokenCreated = plan.token.path;
  }
  for (const file of plan.files) {
    if (!file.changed) continue;
    let mode = file.holdsSecret ? 0o600 : 0o644;
    if (file.existed) {
      const stat = statSync(file.path);
      if (!file.holdsSecret) mode = stat.mode & 0o777;
      const backup = backupPath(file.path, now);
      writeFileSync(backup, scrubToken(file.before), { mode: stat.mode & 0o777, flag: 'wx' });
      result.backups.push(backup);
    }
    writeAtomic(file.path, file.after, mode);
    result.written.push(file.path);
  }
  const scrubbed = [...new Set(plan.files.map((f) => f.path))].flatMap(scrubOldBackups);
  if (scrubbed.length) result.scrubbed = scrubbed;
  return result;
}

/** Same mechanics as applyInstall (backups, atomic writes). */
export function applyUninstall(plan: InstallPlan, options: ApplyOptions = {}): ApplyResult {
  return applyInstall(plan, options);
}
