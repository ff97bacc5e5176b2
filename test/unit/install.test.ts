import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unifiedDiff } from '../../src/install/diff.js';
import {
  HOOK_EVENTS,
  HTTP_TRANSPORT_EVENTS,
  HTTP_HOOK_AUTH,
  PLUGIN_HOOK_COMMAND,
  ASYNC_COMMAND_EVENTS,
  PORTABLE_HOOK_COMMAND,
  hookEntries,
  isOurHook,
} from '../../src/install/hook-entries.js';
import { runInstallCommand, runUninstallCommand } from '../../src/install/commands.js';
import {
  InstallError,
  applyInstall,
  applyUninstall,
  planInstall,
  planUninstall,
  type InstallOptions,
} from '../../src/install/plan.js';

let root: string;
let home: string;
let project: string;
let hookScript: string;
const PORT = 4319;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'claude-otel-install-'));
  home = join(root, 'home');
  project = join(root, 'project');
  mkdirSync(home, { recursive: true });
  mkdirSync(project, { recursive: true });
  hookScript = join(root, 'pkg', 'bin', 'claude-otel-hook');
  mkdirSync(join(root, 'pkg', 'bin'), { recursive: true });
  writeFileSync(hookScript, '#!/bin/sh\n');
  chmodSync(hookScript, 0o755);
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const opts = (over: Partial<InstallOptions> = {}): InstallOptions => ({
  scope: 'user',
  transport: 'http',
  projectDir: project,
  home,
  hookScript,
  port: PORT,
  ...over,
});

const install = (over: Partial<InstallOptions> = {}) => applyInstall(planInstall(opts(over)), { now: () => new Date('2025-01-02T03:04:05Z') });
const uninstall = (scope: InstallOptions['scope'] = 'user') => applyUninstall(planUninstall({ scope, projectDir: project, home, port: PORT }));
const readJson = (path: string): Record<string, any> => JSON.parse(readFileSync(path, 'utf8'));

const userSettings = () => join(home, '.claude', 'settings.json');

/** A settings file with the user's own hooks, including one in a PreToolUse "*" group, written with tabs. */
const EXISTING = {
  model: 'opus',
  permissions: { allow: ['Bash(npm test:*)'], deny: [] },
  env: { FOO: 'bar' },
  hooks: {
    PreToolUse: [
      { matcher: '*', hooks: [{ type: 'command', command: '/usr/local/bin/audit-log', timeout: 5 }] },
      { matcher: 'Bash', hooks: [{ type: 'command', command: 'echo pre-bash' }] },
    ],
    PostToolUse: [{ matcher: 'Edit|Write', hooks: [{ type: 'command', command: 'npx prettier --write "$FILE"' }] }],
    Stop: [{ hooks: [{ type: 'http', url: 'http://127.0.0.1:9999/stop', timeout: 3 }] }],
    UserPromptExpansion: [{ hooks: [{ type: 'command', command: 'true' }] }],
  },
  statusLine: { type: 'command', command: 'echo hi' },
};

function writeExisting(path: string, value: unknown = EXISTING, format: (v: unknown) => string = (v) => JSON.stringify(v, null, '\t')) {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, format(value));
}

function ourHooks(settings: Record<string, any>, event: string): unknown[] {
  return (settings.hooks?.[event] ?? []).flatMap((g: any) => g.hooks).filter((h: unknown) => isOurHook(h, PORT));
}

describe('hookEntries', () => {
  it('uses http for the tool events and command hooks for the rest (transport http)', () => {
    const entries = hookEntries('http', { hookCommand: '/x/bin/claude-otel-hook', port: 4319 });
    expect(Object.keys(entries)).toEqual(HOOK_EVENTS.filter((e) => HTTP_TRANSPORT_EVENTS.has(e)));
    expect(entries.PostToolBatch).toBeUndefined(); // one call per model response saved
    expect(entries.PreToolUse).toEqual([
      {
        matcher: '*',
        hooks: [
          {
            type: 'http',
            url: 'http://127.0.0.1:4319/v1/hooks',
            timeout: 2,
            headers: HTTP_HOOK_AUTH.headers,
            allowedEnvVars: ['CLAUDE_OTEL_TOKEN'],
          },
        ],
      },
    ]);
    expect(entries.SessionStart).toEqual([{ hooks: [{ type: 'command', command: '/x/bin/claude-otel-hook', timeout: 10 }] }]);
    expect(entries.PermissionRequest?.[0]?.matcher).toBe('*');
  });

  it('uses command hooks everywhere for transport durable', () => {
    const entries = hookEntries('durable', { hookCommand: 'h' });
    for (const event of HOOK_EVENTS) expect(entries[event]?.[0]?.hooks[0]?.type).toBe('command');
  });

  it('durable: Claude Code awaits the lifecycle events and not the per-tool and per-response ones', () => {
    const entries = hookEntries('durable', { hookCommand: 'h' });
    const awaited = HOOK_EVENTS.filter((e) => !(entries[e]?.[0]?.hooks[0] as { async?: boolean }).async);
    expect(awaited).toEqual(['SessionStart', 'SessionEnd', 'UserPromptSubmit', 'Stop', 'StopFailure', 'SubagentStart', 'SubagentStop', 'PreCompact', 'PostCompact']);
    expect(entries.PostToolUse).toEqual([{ matcher: '*', hooks: [{ type: 'command', command: 'h', timeout: 10, async: true }] }]);
    expect(entries.PostToolBatch).toEqual([{ hooks: [{ type: 'command', command: 'h', timeout: 10, async: true }] }]);
    // with transport http the same events are http hooks (PostToolBatch is left out): nothing is async
    const http = hookEntries('http', { hookCommand: 'h', port: 4319 });
    for (const groups of Object.values(http)) expect(JSON.stringify(groups)).not.toContain('async');
  });

  it('recognizes only our hooks', () => {
    expect(isOurHook({ type: 'command', command: '/opt/x/bin/claude-otel-hook' })).toBe(true);
    expect(isOurHook({ type: 'command', command: "'/my dir/bin/claude-otel-hook'" })).toBe(true);
    expect(isOurHook({ type: 'command', command: PLUGIN_HOOK_COMMAND })).toBe(true);
    expect(isOurHook({ type: 'command', command: '/opt/claude-otel-hook-wrapper' })).toBe(false);
    expect(isOurHook({ type: 'http', url: 'http://127.0.0.1:4400/v1/hooks', allowedEnvVars: ['CLAUDE_OTEL_TOKEN'] })).toBe(true);
    expect(isOurHook({ type: 'http', url: 'http://127.0.0.1:4319/v1/hooks' }, 4319)).toBe(true);
    expect(isOurHook({ type: 'http', url: 'http://127.0.0.1:5000/v1/hooks' }, 4319)).toBe(false);
    expect(isOurHook({ type: 'http', url: 'https://example.com:4319/v1/hooks' }, 4319)).toBe(false);
    expect(isOurHook({ type: 'command', command: '/usr/local/bin/audit-log' })).toBe(false);
  });
});

describe('plugin', () => {
  const pluginDir = new URL('../../plugin/claude-otel/', import.meta.url);

  it('hooks.json holds exactly hookEntries(durable) with the bundled script and the plugin data dir', () => {
    const hooksJson = JSON.parse(readFileSync(new URL('hooks/hooks.json', pluginDir), 'utf8'));
    expect(hooksJson.hooks).toEqual(hookEntries('durable', { hookCommand: PLUGIN_HOOK_COMMAND }));
    expect(JSON.stringify(hooksJson)).toContain('\\"${CLAUDE_PLUGIN_ROOT}/bin/claude-otel-hook\\"');
    expect(PLUGIN_HOOK_COMMAND).toBe('CLAUDE_OTEL_HOME="${CLAUDE_OTEL_HOME:-${CLAUDE_PLUGIN_DATA}}" "${CLAUDE_PLUGIN_ROOT}/bin/claude-otel-hook"');
  });

  it('plugin.json names the plugin the marketplace lists, at the package version', () => {
    const manifest = JSON.parse(readFileSync(new URL('.claude-plugin/plugin.json', pluginDir), 'utf8'));
    const marketplace = JSON.parse(readFileSync(new URL('../../.claude-plugin/marketplace.json', import.meta.url), 'utf8'));
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(manifest.name).toBe('claude-otel');
    expect(manifest.version).toBe(pkg.version);
    expect(marketplace.plugins).toEqual([expect.objectContaining({ name: 'claude-otel', source: './plugin/claude-otel' })]);
  });
});

describe('install / uninstall (scope user, transport http)', () => {
  it('adds our hooks next to the user’s own and keeps every other setting', () => {
    writeExisting(userSettings());
    const result = install();
    const after = readJson(userSettings());
    for (const event of HOOK_EVENTS) expect(ourHooks(after, event), event).toHaveLength(!HTTP_TRANSPORT_EVENTS.has(event) ? 0 : 1);
    // The user's own hooks, matcher groups and settings survive untouched.
    expect(after.hooks.PreToolUse.slice(0, 2)).toEqual(EXISTING.hooks.PreToolUse);
    expect(after.hooks.PostToolUse[0]).toEqual(EXISTING.hooks.PostToolUse[0]);
    expect(after.hooks.Stop[0]).toEqual(EXISTING.hooks.Stop[0]);
    expect(after.hooks.UserPromptExpansion).toEqual(EXISTING.hooks.UserPromptExpansion);
    expect(after.permissions).toEqual(EXISTING.permissions);
    expect(after.statusLine).toEqual(EXISTING.statusLine);
    expect(after.model).toBe('opus');
    // The token: created with mode 0600 and copied into env.
    const tokenFile = join(home, '.claude-otel', 'token');
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(after.env).toEqual({ FOO: 'bar', CLAUDE_OTEL_TOKEN: token });
    // Written back in the file's own layout (tabs here), so uninstall can give back the same bytes.
    expect(readFileSync(userSettings(), 'utf8')).toMatch(/^\{\n\t"model"/);
    expect(result.backups).toEqual([`${userSettings()}.bak-20250102T030405Z`]);
    expect(readFileSync(result.backups[0] as string, 'utf8')).toBe(JSON.stringify(EXISTING, null, '\t'));
  });

  it('is idempotent: installing twice equals installing once', () => {
    writeExisting(userSettings());
    install();
    const once = readFileSync(userSettings(), 'utf8');
    const second = install();
    expect(second.written).toEqual([]);
    expect(second.backups).toEqual([]);
    expect(readFileSync(userSettings(), 'utf8')).toBe(once);
  });

  it('uninstall restores the original meaning', () => {
    writeExisting(userSettings());
    install();
    uninstall();
    expect(readJson(userSettings())).toEqual(EXISTING);
  });

  it('reuses an existing token', () => {
    mkdirSync(join(home, '.claude-otel'), { recursive: true });
    writeFileSync(join(home, '.claude-otel', 'token'), 'a'.repeat(64) + '\n', { mode: 0o600 });
    install();
    expect(readJson(userSettings()).env.CLAUDE_OTEL_TOKEN).toBe('a'.repeat(64));
  });

  it('replaces our entries when the port or transport changes, without duplicates', () => {
    writeExisting(userSettings());
    install();
    install({ port: 4400 });
    let after = readJson(userSettings());
    expect(ourHooks(after, 'PreToolUse')).toEqual([expect.objectContaining({ url: 'http://127.0.0.1:4400/v1/hooks' })]);
    install({ transport: 'durable' });
    after = readJson(userSettings());
    for (const event of HOOK_EVENTS) {
      expect(ourHooks(after, event)).toEqual([{ type: 'command', command: hookScript, timeout: 10, ...(ASYNC_COMMAND_EVENTS.has(event) ? { async: true } : {}) }]);
    }
    expect(after.env).toEqual({ FOO: 'bar' });
    uninstall();
    expect(readJson(userSettings())).toEqual(EXISTING);
  });

  it('keeps user hooks that live in the same matcher group as ours', () => {
    writeExisting(userSettings());
    install();
    const s = readJson(userSettings());
    const ourGroup = s.hooks.PreToolUse[2];
    ourGroup.hooks.push({ type: 'command', command: 'echo mine' });
    writeFileSync(userSettings(), JSON.stringify(s, null, 2));
    uninstall();
    const after = readJson(userSettings());
    expect(after.hooks.PreToolUse[2]).toEqual({ matcher: '*', hooks: [{ type: 'command', command: 'echo mine' }] });
    expect(ourHooks(after, 'PreToolUse')).toEqual([]);
  });

  it('works when neither the file nor ~/.claude exists', () => {
    install();
    const after = readJson(userSettings());
    expect(ourHooks(after, 'SessionStart')).toHaveLength(1);
    uninstall();
    expect(readJson(userSettings())).toEqual({});
  });

  it('accepts unusual formatting and an empty file', () => {
    writeExisting(userSettings(), EXISTING, (v) => `\n\n${JSON.stringify(v)}   `);
    install();
    uninstall();
    expect(readJson(userSettings())).toEqual(EXISTING);
    writeFileSync(userSettings(), '  \n');
    install();
    expect(ourHooks(readJson(userSettings()), 'Stop')).toHaveLength(1);
  });

  it('refuses a file that is not valid JSON and changes nothing', () => {
    const broken = '{ "model": "opus", // comment\n }';
    writeExisting(userSettings(), undefined, () => broken);
    expect(() => planInstall(opts())).toThrow(InstallError);
    expect(() => planInstall(opts())).toThrow(/settings\.json is not valid JSON.*nothing was changed/);
    expect(readFileSync(userSettings(), 'utf8')).toBe(broken);
    expect(existsSync(join(home, '.claude-otel', 'token'))).toBe(false);
    expect(readdirSync(join(home, '.claude'))).toEqual(['settings.json']);
  });

  it('refuses hooks of the wrong shape', () => {
    writeExisting(userSettings(), { hooks: { PreToolUse: { matcher: '*' } } });
    expect(() => planInstall(opts())).toThrow(/hooks\.PreToolUse.*not an array/);
  });

  it('refuses to apply a plan when the file changed meanwhile', () => {
    writeExisting(userSettings());
    const plan = planInstall(opts());
    writeFileSync(userSettings(), '{}');
    expect(() => applyInstall(plan)).toThrow(/changed since the plan/);
    expect(readFileSync(userSettings(), 'utf8')).toBe('{}');
  });
});

describe('install scopes project and local', () => {
  it('project: hooks in the shared file, token only in settings.local.json', () => {
    const shared = join(project, '.claude', 'settings.json');
    const local = join(project, '.claude', 'settings.local.json');
    writeExisting(shared);
    writeExisting(local, { permissions: { allow: ['Read'] } });
    install({ scope: 'project' });
    const sharedAfter = readJson(shared);
    expect(ourHooks(sharedAfter, 'PostToolUse')).toHaveLength(1);
    expect(JSON.stringify(sharedAfter)).not.toMatch(/[0-9a-f]{64}/);
    expect(sharedAfter.env).toEqual({ FOO: 'bar' });
    const localAfter = readJson(local);
    expect(localAfter.env.CLAUDE_OTEL_TOKEN).toMatch(/^[0-9a-f]{64}$/);
    expect(localAfter.hooks).toBeUndefined();
    expect(statSync(local).mode & 0o777).toBe(0o600);
    uninstall('project');
    expect(readJson(shared)).toEqual(EXISTING);
    expect(readJson(local)).toEqual({ permissions: { allow: ['Read'] } });
    expect(existsSync(userSettings())).toBe(false);
  });

  it('local: hooks and token in settings.local.json', () => {
    install({ scope: 'local' });
    const local = readJson(join(project, '.claude', 'settings.local.json'));
    expect(ourHooks(local, 'PreToolUse')).toHaveLength(1);
    expect(local.env.CLAUDE_OTEL_TOKEN).toMatch(/^[0-9a-f]{64}$/);
    expect(existsSync(join(project, '.claude', 'settings.json'))).toBe(false);
  });
});

describe('runInstallCommand / runUninstallCommand', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return {
      out,
      err,
      io: {
        stdout: (s: string) => void out.push(s),
        stderr: (s: string) => void err.push(s),
        env: { CLAUDE_OTEL_HOME: join(home, '.claude-otel') },
        cwd: project,
        homedir: () => home,
        now: () => Date.parse('2025-01-02T03:04:05Z'),
      },
    };
  };

  it('--dry-run prints a diff, hides the token and changes nothing', () => {
    writeExisting(userSettings());
    const before = readFileSync(userSettings(), 'utf8');
    const { io: cmdIo, out } = io();
    expect(runInstallCommand(['--dry-run', '--hook-script', hookScript], cmdIo)).toBe(0);
    const text = out.join('');
    expect(text).toContain(`--- ${userSettings()}`);
    expect(text).toMatch(/^\+\t\t"SessionStart": \[/m);
    expect(text).toContain('"CLAUDE_OTEL_TOKEN": "<token from');
    expect(text).toContain('Dry run: nothing was changed.');
    expect(readFileSync(userSettings(), 'utf8')).toBe(before);
    expect(existsSync(join(home, '.claude-otel', 'token'))).toBe(false);
    expect(readdirSync(join(home, '.claude'))).toEqual(['settings.json']);
  });

  it('installs, reports, and uninstalls by flags', () => {
    const { io: cmdIo, out } = io();
    expect(runInstallCommand(['--scope', 'local', '--transport', 'durable', '--hook-script', hookScript], cmdIo)).toBe(0);
    expect(out.join('')).toContain('Installed (scope local)');
    const local = join(project, '.claude', 'settings.local.json');
    expect(ourHooks(readJson(local), 'PreToolUse')).toEqual([{ type: 'command', command: hookScript, timeout: 10, async: true }]);
    expect(runInstallCommand(['--scope', 'local', '--transport', 'durable', '--hook-script', hookScript], cmdIo)).toBe(0);
    expect(out.join('')).toContain('already installed');
    expect(runUninstallCommand(['--scope', 'local', '--project-dir', project], cmdIo)).toBe(0);
    expect(readJson(local)).toEqual({});
  });

  it('installs the durable transport when another uid holds the agent port, and says why', () => {
    const { io: cmdIo, out } = io();
    const squatter = { address: '127.0.0.1', port: PORT, uid: 65534, inode: 1, pid: 4242, command: 'node -e listen' };
    expect(runInstallCommand(['--hook-script', hookScript], { ...cmdIo, portHolder: () => squatter })).toBe(0);
    expect(out.join('')).toMatch(/Port 127\.0\.0\.1:4319 is held by another user \(uid 65534, pid 4242 \(node -e listen\)\)/);
    const settings = readJson(userSettings());
    expect(JSON.stringify(settings.hooks)).not.toMatch(/"type":"http"/);
    expect(settings.env?.CLAUDE_OTEL_TOKEN).toBeUndefined();
    // A listener of our own uid (our agent) does not change the transport.
    const own = { ...squatter, uid: process.getuid!() };
    expect(runInstallCommand(['--hook-script', hookScript], { ...io().io, portHolder: () => own })).toBe(0);
    expect(JSON.stringify(readJson(userSettings()).hooks)).toMatch(/"type":"http"/);
  });

  it('never keeps the token in backups: new backups are scrubbed, old ones too on uninstall', () => {
    const { io: cmdIo } = io();
    const free = { ...cmdIo, portHolder: () => undefined };
    writeExisting(userSettings());
    expect(runInstallCommand(['--hook-script', hookScript], free)).toBe(0);
    const token = readFileSync(join(home, '.claude-otel', 'token'), 'utf8').trim();
    expect(readFileSync(userSettings(), 'utf8')).toContain(token);
    // An old backup from before this fix, holding the token.
    const old = `${userSettings()}.bak-20240101T000000Z`;
    writeFileSync(old, JSON.stringify({ env: { CLAUDE_OTEL_TOKEN: token, OTHER: 'kept' } }, null, 2), { mode: 0o600 });
    expect(runUninstallCommand([], free)).toBe(0);
    const backups = readdirSync(join(home, '.claude')).filter((f) => f.includes('.bak-'));
    expect(backups.length).toBeGreaterThanOrEqual(2);
    for (const b of backups) expect(readFileSync(join(home, '.claude', b), 'utf8'), b).not.toContain(token);
    expect(readJson(old).env).toEqual({ CLAUDE_OTEL_TOKEN: '<removed by claude-otel>', OTHER: 'kept' });
    expect(statSync(old).mode & 0o777).toBe(0o600);
  });

  it('exits 1 with a clear message on invalid JSON and 2 on bad flags', () => {
    writeExisting(userSettings(), undefined, () => 'nope');
    const { io: cmdIo, err } = io();
    expect(runInstallCommand(['--hook-script', hookScript], cmdIo)).toBe(1);
    expect(err.join('')).toMatch(/not valid JSON/);
    expect(runInstallCommand(['--scope', 'global'], cmdIo)).toBe(2);
    expect(runInstallCommand(['--transport', 'grpc'], cmdIo)).toBe(2);
    expect(runUninstallCommand(['--transport', 'http'], cmdIo)).toBe(2);
  });
});

describe('unifiedDiff', () => {
  it('shows added and removed lines with context', () => {
    const d = unifiedDiff('a\nb\nc\nd\n', 'a\nb\nX\nd\ne\n', 'old', 'new', 1);
    expect(d).toBe('--- old\n+++ new\n@@ -2,3 +2,4 @@\n b\n-c\n+X\n d\n+e\n');
    expect(unifiedDiff('same\n', 'same\n', 'a', 'b')).toBe('');
  });
});

describe('the settings file keeps its layout', () => {
  for (const [layout, text] of [
    ['4 spaces, no final newline', JSON.stringify(EXISTING, null, 4)],
    ['tabs, final newline', `${JSON.stringify(EXISTING, null, '\t')}\n`],
  ] as const) {
    it(`install then uninstall gives back the file byte for byte (${layout})`, () => {
      mkdirSync(join(home, '.claude'), { recursive: true });
      writeFileSync(userSettings(), text);
      install();
      const installed = readFileSync(userSettings(), 'utf8');
      expect(installed).not.toBe(text);
      expect(installed.startsWith(text.slice(0, 3))).toBe(true);
      uninstall();
      expect(readFileSync(userSettings(), 'utf8')).toBe(text);
    });
  }
});

describe('project scope: the shared file names no path of this machine', () => {
  it('runs $CLAUDE_OTEL_HOOK or claude-otel-hook from PATH; the path goes to settings.local.json; uninstall removes both', () => {
    install({ scope: 'project', transport: 'durable' });
    const shared = readFileSync(join(project, '.claude', 'settings.json'), 'utf8');
    expect(shared).not.toContain(root);
    expect(readJson(join(project, '.claude', 'settings.json')).hooks).toEqual(hookEntries('durable', { hookCommand: PORTABLE_HOOK_COMMAND }));
    expect(readJson(join(project, '.claude', 'settings.local.json'))).toEqual({ env: { CLAUDE_OTEL_HOOK: hookScript } });
    expect(isOurHook({ type: 'command', command: PORTABLE_HOOK_COMMAND })).toBe(true);
    uninstall('project');
    expect(readJson(join(project, '.claude', 'settings.json'))).toEqual({});
    expect(readJson(join(project, '.claude', 'settings.local.json'))).toEqual({});
  });

  it('defaults to the durable transport (teammates have no token of this agent)', () => {
    const out: string[] = [];
    expect(runInstallCommand(['--scope', 'project', '--project-dir', project, '--hook-script', hookScript], { stdout: (t) => out.push(t), stderr: (t) => out.push(t), env: { CLAUDE_OTEL_HOME: join(root, 'state') }, homedir: () => home, portHolder: () => undefined })).toBe(0);
    const hooks = readJson(join(project, '.claude', 'settings.json')).hooks as Record<string, Array<{ hooks: Array<{ type: string }> }>>;
    expect(Object.values(hooks).flat().flatMap((g) => g.hooks.map((h) => h.type))).toEqual(HOOK_EVENTS.map(() => 'command'));
    expect(existsSync(join(root, 'state', 'token'))).toBe(false);
  });
});
