// `claude-otel uninstall --purge` as a user runs it (node dist/cli.js, a real agent started by the
// real hook script): our state goes only when asked, the agent is stopped first, the user's
// config.json and files we did not write stay.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/agent/agent.js';
import { waitFor } from '../support/agent-harness.js';
import { freePort } from '../support/ports.js';

const REPO = join(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'dist', 'cli.js');
const HOOK = join(REPO, 'bin', 'claude-otel-hook');
const SID = 'a11a11a1-0000-4000-8000-0000000000ee';

let root: string;
let userHome: string;
let otelHome: string;
let env: NodeJS.ProcessEnv;
const started: number[] = [];

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'cob-purge-'));
  userHome = join(root, 'home');
  otelHome = join(root, 'otel-home');
  mkdirSync(join(userHome, '.claude'), { recursive: true });
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(CLAUDE_|OTEL_)/.test(k)) clean[k] = v;
  env = { ...clean, HOME: userHome, CLAUDE_OTEL_HOME: otelHome, CLAUDE_OTEL_PROFILE: 'testing', CLAUDE_OTEL_PORT: String(await freePort()) };
});
afterEach(() => {
  for (const pid of started) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  started.length = 0;
  rmSync(root, { recursive: true, force: true });
});

const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 30_000 });
const agentPid = () => {
  try {
    const pid = Number(readFileSync(join(otelHome, 'agent.pid'), 'utf8'));
    return pid && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
};

/** A real event through the real hook: it spools and starts the agent, which ingests it. */
async function useIt(): Promise<number> {
  execFileSync(HOOK, [], { env, input: JSON.stringify({ session_id: SID, transcript_path: '/dev/null', cwd: root, hook_event_name: 'SessionStart', source: 'startup' }) });
  const pid = await waitFor(agentPid, 20_000, 'the hook-started agent');
  started.push(pid);
  await waitFor(() => existsSync(join(otelHome, 'journal.jsonl')) && readdirSync(join(otelHome, 'spool', 'new')).length === 0, 20_000, 'the event ingested');
  return pid;
}

describe('uninstall --purge', () => {
  it('removes our state only when asked, stops the agent first, and keeps the user\'s files', async () => {
    const settings = join(userHome, '.claude', 'settings.json');
    writeFileSync(settings, `${JSON.stringify({ model: 'opus' }, null, 2)}\n`);
    expect(cli('install', '--scope', 'user', '--transport', 'durable').status).toBe(0);
    const pid = await useIt();
    writeFileSync(join(otelHome, 'config.json'), '{"profile": "testing"}\n');
    writeFileSync(join(otelHome, 'my-notes.txt'), 'mine\n');
    const ours = ['token', 'spool', 'store', 'journal.jsonl', 'agent.lock', 'agent.pid'];
    for (const name of ours) expect(existsSync(join(otelHome, name)), name).toBe(true);

    // Plain uninstall: the hooks go, the home stays as it is, the agent keeps running.
    const plain = cli('uninstall', '--scope', 'user');
    expect(plain.status).toBe(0);
    expect(readFileSync(settings, 'utf8')).toBe(`${JSON.stringify({ model: 'opus' }, null, 2)}\n`);
    for (const name of ours) expect(existsSync(join(otelHome, name)), name).toBe(true);
    expect(isAlive(pid)).toBe(true);

    // A dry run says what would go and removes nothing.
    const dry = cli('uninstall', '--scope', 'user', '--purge', '--dry-run');
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain(`Would remove: `);
    expect(dry.stdout).toContain(join(otelHome, 'journal.jsonl'));
    expect(dry.stdout).toContain(`after stopping the agent, pid ${pid}`);
    expect(dry.stdout).toMatch(/kept: .*config\.json, .*my-notes\.txt/);
    for (const name of ours) expect(existsSync(join(otelHome, name)), name).toBe(true);

    const purge = cli('uninstall', '--scope', 'user', '--purge');
    expect(purge.status, purge.stderr).toBe(0);
    expect(purge.stdout).toContain(`Stopped the agent (pid ${pid})`);
    expect(isAlive(pid)).toBe(false);
    expect(readdirSync(otelHome).sort()).toEqual(['config.json', 'my-notes.txt']);
  }, 90_000);

  it('removes the home itself when nothing of the user\'s is in it', async () => {
    await useIt();
    const r = cli('uninstall', '--purge');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('itself, now empty');
    expect(existsSync(otelHome)).toBe(false);
    expect(cli('uninstall', '--purge').stdout).toContain('Nothing to purge');
  }, 60_000);

  it('refuses a home that is a link, and removes nothing behind it', () => {
    const real = join(root, 'elsewhere');
    mkdirSync(real);
    writeFileSync(join(real, 'token'), 'x'.repeat(64));
    symlinkSync(real, otelHome);
    const r = cli('uninstall', '--purge');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/symbolic link.*nothing was removed/);
    expect(readdirSync(real)).toEqual(['token']);
  });
});
