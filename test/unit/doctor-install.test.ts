// The doctor's stale-installation check against settings written by the real installer, then made
// stale the way it happens: the script moved away, the token rotated, the plugin installed on top,
// a second scope with another copy. Each failure names the fix, and the fix makes it pass.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkInstall, scriptOf } from '../../src/cli/doctor-install.js';
import { runDoctorCommand } from '../../src/cli/doctor-command.js';
import { runInstallCommand } from '../../src/install/commands.js';
import { shellQuote } from '../../src/install/hook-entries.js';

let root: string;
let userHome: string;
let otelHome: string;
let project: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'cob-doctor-install-'));
  userHome = join(root, 'home');
  otelHome = join(root, 'otel-home');
  project = join(root, 'project');
  for (const d of [userHome, otelHome, project]) mkdirSync(d, { recursive: true, mode: 0o700 });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const env = (extra: Record<string, string> = {}) => ({ PATH: '/usr/bin:/bin', HOME: userHome, CLAUDE_OTEL_HOME: otelHome, ...extra });
const ctx = (extra: Record<string, string> = {}) => ({ env: env(extra), projectDir: project, userHome });
const check = (extra: Record<string, string> = {}) => checkInstall(ctx(extra), otelHome);

function script(name: string): string {
  const dir = join(root, name, 'bin');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'claude-otel-hook');
  writeFileSync(path, '#!/bin/sh\nexit 0\n');
  chmodSync(path, 0o755);
  return path;
}

function install(...args: string[]): void {
  let out = '';
  const code = runInstallCommand([...args, '--project-dir', project], { stdout: (s) => (out += s), stderr: (s) => (out += s), env: env(), homedir: () => userHome, portHolder: () => undefined });
  expect(code, out).toBe(0);
}

const userSettings = () => join(userHome, '.claude', 'settings.json');

describe('doctor: stale installation', () => {
  it('passes a current install and reports nothing installed as such', () => {
    expect(check()).toMatchObject({ verdict: 'pass', detail: 'nothing installed' });
    install('--scope', 'user', '--hook-script', script('pkg'));
    expect(check()).toMatchObject({ name: 'install', verdict: 'pass' });
  });

  it('fails hooks that run a script that no longer exists, and reinstalling fixes it', () => {
    const old = script('old clone'); // a path that needs quoting, as the installer writes it
    install('--scope', 'user', '--hook-script', old);
    expect(readFileSync(userSettings(), 'utf8')).toContain(JSON.stringify(shellQuote(old)).slice(1, -1));
    rmSync(join(root, 'old clone'), { recursive: true });
    const r = check();
    expect(r.verdict).toBe('fail');
    expect(r.detail).toContain(`the user hooks run ${old}, which no longer exists`);
    expect(r.fix).toBe('claude-otel install --scope user (replaces them in place)');
    install('--scope', 'user', '--hook-script', script('new'));
    expect(check().verdict).toBe('pass');
  });

  it('fails settings holding an old token (never printing it), and reinstalling fixes it', () => {
    install('--scope', 'user', '--transport', 'http', '--hook-script', script('pkg'));
    const token = JSON.parse(readFileSync(userSettings(), 'utf8')).env.CLAUDE_OTEL_TOKEN as string;
    expect(check().verdict).toBe('pass');
    writeFileSync(join(otelHome, 'token'), `${'b'.repeat(64)}\n`, { mode: 0o600 }); // rotated
    const r = check();
    expect(r.verdict).toBe('fail');
    expect(r.detail).toContain(`${userSettings()} holds an old agent token: the agent refuses the http hooks (401)`);
    expect(JSON.stringify(r)).not.toContain(token);
    expect(r.fix).toContain('claude-otel install --scope user (writes the current token)');
    install('--scope', 'user', '--transport', 'http', '--hook-script', script('pkg'));
    expect(check().verdict).toBe('pass');
    // The hooks' home is the one their settings name: compared with that home's token.
    const other = join(root, 'other-home');
    mkdirSync(other, { mode: 0o700 });
    writeFileSync(join(other, 'token'), `${'c'.repeat(64)}\n`, { mode: 0o600 });
    const withHome = JSON.parse(readFileSync(userSettings(), 'utf8'));
    withHome.env.CLAUDE_OTEL_HOME = other;
    writeFileSync(userSettings(), JSON.stringify(withHome));
    expect(check().detail).toContain('holds an old agent token');
    withHome.env.CLAUDE_OTEL_TOKEN = 'c'.repeat(64);
    writeFileSync(userSettings(), JSON.stringify(withHome));
    expect(check().verdict).toBe('pass');
  });

  it('fails the plugin and a settings install together: every hook fires twice', () => {
    install('--scope', 'user', '--hook-script', script('pkg'));
    const s = JSON.parse(readFileSync(userSettings(), 'utf8'));
    writeFileSync(userSettings(), JSON.stringify({ ...s, enabledPlugins: { 'claude-otel@claude-otel-bridge': true } }));
    const r = check();
    expect(r.verdict).toBe('fail');
    expect(r.detail).toContain('both claude-otel@claude-otel-bridge and the hooks in scope user are installed: every hook fires twice');
    expect(r.fix).toBe('keep one: `claude-otel uninstall --scope user`, or `claude plugin uninstall claude-otel@claude-otel-bridge`');
    // Run inside the plugin (CLAUDE_PLUGIN_ROOT set), with the settings install still there: the same.
    writeFileSync(userSettings(), JSON.stringify(s));
    expect(check({ CLAUDE_PLUGIN_ROOT: join(root, 'plugin') }).detail).toContain('both the plugin and the hooks in scope user');
  });

  it('fails two scopes that run different copies; the same command in two scopes runs once and passes', () => {
    const a = script('a');
    install('--scope', 'user', '--hook-script', a);
    install('--scope', 'local', '--hook-script', a);
    expect(check().verdict).toBe('pass');
    install('--scope', 'local', '--hook-script', script('b'));
    const r = check();
    expect(r.verdict).toBe('fail');
    expect(r.detail).toMatch(/scopes user, local install different hook commands .*every hook fires once per command/);
  });

  it('fails a portable project hook that finds no script, and passes once install names this machine\'s', () => {
    install('--scope', 'project', '--hook-script', script('pkg'));
    expect(check().verdict).toBe('pass'); // CLAUDE_OTEL_HOOK in .claude/settings.local.json
    // A teammate's clone: the shared file only, and no claude-otel-hook on PATH.
    rmSync(join(project, '.claude', 'settings.local.json'));
    const r = check();
    expect(r.verdict).toBe('fail');
    expect(r.detail).toContain('the project hooks look for claude-otel-hook (no $CLAUDE_OTEL_HOOK in .claude/settings.local.json, none on PATH): they do nothing');
    expect(check({ PATH: `${join(root, 'pkg', 'bin')}:/usr/bin` }).verdict).toBe('pass'); // npm i -g puts it on PATH
  });

  it('is a line of `claude-otel doctor`, with the fix under it', async () => {
    install('--scope', 'user', '--hook-script', script('gone'));
    rmSync(join(root, 'gone'), { recursive: true });
    let out = '';
    const code = await runDoctorCommand(['--project-dir', project], { stdout: (s) => (out += s), stderr: () => {}, env: env({ CLAUDE_BIN: '/nonexistent' }), homedir: () => userHome });
    expect(code).toBe(1);
    expect(out).toMatch(/^\[FAIL\] install +stale installation: the user hooks run .*gone\/bin\/claude-otel-hook, which no longer exists/m);
    expect(out).toMatch(/^ +fix: claude-otel install --scope user \(replaces them in place\)$/m);
  });

  it('counts an http hook on the configured port as ours, as install and uninstall do', async () => {
    // An http hook to our path that does not name our token variable: ours only by its port.
    mkdirSync(join(userHome, '.claude'), { recursive: true });
    const hook = { type: 'http', url: 'http://127.0.0.1:47311/v1/hooks' };
    writeFileSync(userSettings(), JSON.stringify({ hooks: { PreToolUse: [{ matcher: '*', hooks: [hook] }] } }));
    const hooksLine = async (port: string) => {
      let out = '';
      await runDoctorCommand(['--project-dir', project], { stdout: (s) => (out += s), stderr: () => {}, env: env({ CLAUDE_BIN: '/nonexistent', CLAUDE_OTEL_PORT: port }), homedir: () => userHome });
      return out.split('\n').find((l) => / hooks /.test(l));
    };
    expect(await hooksLine('47311')).toMatch(/^\[ok {2}\] hooks +installed in scope user$/);
    expect(await hooksLine('47312')).toMatch(/^\[FAIL\] hooks +no claude-otel hooks/);
  });

  it('reads the script out of a command as the installer quotes it', () => {
    expect(scriptOf('/a/bin/claude-otel-hook')).toBe('/a/bin/claude-otel-hook');
    expect(scriptOf(shellQuote("/it's here/bin/claude-otel-hook"))).toBe("/it's here/bin/claude-otel-hook");
    expect(scriptOf('node /x/cli.js hook')).toBeUndefined();
  });
});
