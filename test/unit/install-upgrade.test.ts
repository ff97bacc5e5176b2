// Upgrading over an earlier version's install: settings written by an older claude-otel (another
// script path that no longer exists, an old token, the http transport's older event set, project
// hooks naming a machine path) get one set of hooks, the new one, in the places the old ones had;
// everything else in the file stays as it was, byte for byte after uninstall.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HOOK_PATH_ENV, PORTABLE_HOOK_COMMAND, hookEntries, isOurHook } from '../../src/install/hook-entries.js';
import { applyInstall, applyUninstall, planInstall, planUninstall, type InstallOptions } from '../../src/install/plan.js';

const PORT = 4319;
const OLD_SCRIPT = '/home/dev/old-clone/claude-otel-bridge-0.0.9/bin/claude-otel-hook';
const OLD_TOKEN = 'f'.repeat(64);
const NEW_TOKEN = 'a'.repeat(64);
const oldCommand = { type: 'command', command: OLD_SCRIPT, timeout: 10 };
const oldHttp = { type: 'http', url: `http://127.0.0.1:${PORT}/v1/hooks`, timeout: 2, headers: { Authorization: 'Bearer $CLAUDE_OTEL_TOKEN' }, allowedEnvVars: ['CLAUDE_OTEL_TOKEN'] };
const mine = (command: string) => ({ type: 'command', command });

/** What an earlier version's `install --scope user` left, with the user's own hooks around ours. */
const OLD = {
  model: 'opus',
  hooks: {
    SessionStart: [{ hooks: [oldCommand] }, { hooks: [mine('echo mine-after')] }],
    PreToolUse: [{ matcher: 'Bash', hooks: [mine('echo before')] }, { matcher: '*', hooks: [oldHttp] }, { matcher: 'Edit', hooks: [mine('echo after')] }],
    PostToolUse: [{ matcher: '*', hooks: [oldHttp] }],
    PostToolBatch: [{ hooks: [oldCommand] }], // the http transport subscribed it then
    Notification: [{ hooks: [oldCommand] }], // a command hook then, an http hook now
    Stop: [{ hooks: [oldCommand, mine('echo shares-our-group')] }],
    UserPromptExpansion: [{ hooks: [mine('true')] }],
  },
  env: { CLAUDE_OTEL_TOKEN: OLD_TOKEN, FOO: 'bar' },
  statusLine: { type: 'command', command: 'echo hi' },
};

/** The same file without anything of ours: what uninstall must give back. */
const USER_ONLY = {
  model: 'opus',
  hooks: {
    SessionStart: [{ hooks: [mine('echo mine-after')] }],
    PreToolUse: [{ matcher: 'Bash', hooks: [mine('echo before')] }, { matcher: 'Edit', hooks: [mine('echo after')] }],
    Stop: [{ hooks: [mine('echo shares-our-group')] }],
    UserPromptExpansion: [{ hooks: [mine('true')] }],
  },
  env: { FOO: 'bar' },
  statusLine: { type: 'command', command: 'echo hi' },
};

let root: string;
let home: string;
let project: string;
let script: string;
const stringify = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as Record<string, any>;
const ours = (s: Record<string, any>) =>
  Object.fromEntries(Object.entries(s.hooks ?? {}).map(([e, groups]) => [e, (groups as any[]).flatMap((g) => g.hooks).filter((h) => isOurHook(h, PORT))]).filter(([, h]) => (h as unknown[]).length));

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'claude-otel-upgrade-'));
  home = join(root, 'home');
  project = join(root, 'project');
  script = join(root, 'new', 'bin', 'claude-otel-hook');
  mkdirSync(join(root, 'new', 'bin'), { recursive: true });
  writeFileSync(script, '#!/bin/sh\n');
  mkdirSync(join(home, '.claude-otel'), { recursive: true });
  writeFileSync(join(home, '.claude-otel', 'token'), `${NEW_TOKEN}\n`, { mode: 0o600 });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const run = (o: Partial<InstallOptions>) =>
  applyInstall(planInstall({ scope: 'user', transport: 'http', projectDir: project, home, hookScript: script, port: PORT, stateDir: join(home, '.claude-otel'), ...o }), { now: () => new Date('2026-01-02T03:04:05Z') });

describe('install over an earlier version', () => {
  it('replaces the old hooks in place with one set of the new ones and leaves the rest as it was', () => {
    const file = join(home, '.claude', 'settings.json');
    mkdirSync(join(home, '.claude'));
    writeFileSync(file, stringify(OLD));
    run({});
    const after = readJson(file);
    // One set, the new one: exactly what this version writes, for exactly the events it subscribes.
    const expected = hookEntries('http', { hookCommand: script, port: PORT });
    expect(ours(after)).toEqual(Object.fromEntries(Object.entries(expected).map(([e, g]) => [e, g!.flatMap((x) => x.hooks)])));
    expect(JSON.stringify(after)).not.toContain(OLD_SCRIPT);
    expect(after.hooks.PostToolBatch).toBeUndefined();
    // In place: ours where the old ones were, the user's groups in their order around them.
    expect(after.hooks.PreToolUse.map((g: any) => g.hooks[0].command ?? g.hooks[0].url)).toEqual(['echo before', `http://127.0.0.1:${PORT}/v1/hooks`, 'echo after']);
    expect(after.hooks.SessionStart.map((g: any) => g.hooks[0].command)).toEqual([script, 'echo mine-after']);
    expect(after.hooks.Stop).toEqual([{ hooks: [mine('echo shares-our-group')] }, { hooks: [{ type: 'command', command: script, timeout: 10 }] }]);
    // Events keep their order in the file; events new in this version come after.
    const keys = Object.keys(after.hooks);
    expect(keys.slice(0, 6)).toEqual(['SessionStart', 'PreToolUse', 'PostToolUse', 'Notification', 'Stop', 'UserPromptExpansion']);
    expect(Object.keys(after)).toEqual(['model', 'hooks', 'env', 'statusLine']);
    // The old token is replaced by this agent's; the user's env stays.
    expect(after.env).toEqual({ CLAUDE_OTEL_TOKEN: NEW_TOKEN, FOO: 'bar' });
    // Installing again changes nothing; uninstalling leaves exactly the user's part, byte for byte.
    expect(run({}).written).toEqual([]);
    applyUninstall(planUninstall({ scope: 'user', projectDir: project, home, port: PORT }));
    expect(readFileSync(file, 'utf8')).toBe(stringify(USER_ONLY));
  });

  it('a project install of the machine-path era becomes the portable one: the path moves to the local file', () => {
    const shared = join(project, '.claude', 'settings.json');
    const local = join(project, '.claude', 'settings.local.json');
    mkdirSync(join(project, '.claude'), { recursive: true });
    const old = { hooks: { SessionStart: [{ hooks: [oldCommand] }], Stop: [{ hooks: [mine('make lint')] }, { hooks: [oldCommand] }] }, permissions: { allow: ['Bash(ls)'] } };
    writeFileSync(shared, stringify(old));
    writeFileSync(local, stringify({ env: { CLAUDE_OTEL_TOKEN: OLD_TOKEN }, model: 'haiku' }));
    run({ scope: 'project', transport: 'durable' });
    const s = readJson(shared);
    expect(JSON.stringify(s)).not.toContain(root); // no path of this machine in the shared file
    expect(JSON.stringify(s)).not.toContain(OLD_SCRIPT);
    expect(s.hooks.Stop).toEqual([{ hooks: [mine('make lint')] }, { hooks: [{ type: 'command', command: PORTABLE_HOOK_COMMAND, timeout: 10 }] }]);
    expect(Object.values(ours(s)).every((h) => (h as unknown[]).length === 1)).toBe(true);
    expect(s.permissions).toEqual({ allow: ['Bash(ls)'] });
    // Durable hooks read the token file: the old token leaves the local file; the script path goes there.
    expect(readJson(local)).toEqual({ env: { [HOOK_PATH_ENV]: script }, model: 'haiku' });
  });
});
