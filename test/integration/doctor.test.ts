// `claude-otel doctor` as the user runs it (node dist/cli.js), against a real agent process.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/agent-harness.js';
import { freePort } from '../support/ports.js';

const REPO = join(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'dist', 'cli.js');
const CLAUDE_BIN = join(REPO, 'node_modules', '@anthropic-ai', 'claude-code-linux-x64', 'claude');
const SID = 'd0c7d0c7-0000-4000-8000-000000000001';

interface Result {
  name: string;
  verdict: 'pass' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

let root: string;
let home: string;
let project: string;
let port: number;
const children: ChildProcess[] = [];

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'cob-doctor-int-'));
  home = join(root, 'otel-home');
  project = join(root, 'project');
  mkdirSync(join(root, 'home'), { recursive: true });
  mkdirSync(project, { recursive: true });
  mkdirSync(home, { recursive: true, mode: 0o700 });
  port = await freePort();
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGTERM');
      await new Promise((r) => c.once('exit', r));
    }
  }
  rmSync(root, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(CLAUDE_|OTEL_|NODE_ENV$|CI$)/.test(k)) e[k] = v;
  return { ...e, HOME: join(root, 'home'), CLAUDE_OTEL_HOME: home, CLAUDE_BIN, ...extra };
};

function writeConfig(extra: Record<string, unknown> = {}) {
  writeFileSync(join(home, 'config.json'), JSON.stringify({ profile: 'testing', agent: { port }, ...extra }));
}

async function startAgentProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'agent'], { env: env(), stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`agent exited ${child.exitCode}: ${stderr}`);
    try {
      return (JSON.parse(readFileSync(join(home, 'agent.json'), 'utf8')) as { pid: number }).pid === child.pid;
    } catch {
      return false;
    }
  }, 15_000, 'agent.json of the agent process');
  return child;
}

function doctor(extra: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, 'doctor', '--json', '--project-dir', project], { env: env(extra), encoding: 'utf8', timeout: 30_000 });
  const results = JSON.parse(r.stdout) as Result[];
  return { code: r.status, results, byName: Object.fromEntries(results.map((x) => [x.name, x])) as Record<string, Result>, stderr: r.stderr };
}

function install() {
  execFileSync(process.execPath, [CLI, 'install', '--scope', 'project', '--project-dir', project], { env: env(), stdio: 'pipe' });
}

async function postHook(event: Record<string, unknown>) {
  const info = JSON.parse(readFileSync(join(home, 'agent.json'), 'utf8')) as { url: string };
  const token = readFileSync(join(home, 'token'), 'utf8').trim();
  const res = await fetch(`${info.url}/v1/hooks`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(event) });
  expect(res.status).toBe(200);
}

describe('claude-otel doctor (CLI, live agent process)', () => {
  it('exits 0 with a running agent and hooks installed; exits 1 once the agent is stopped', async () => {
    writeConfig();
    const agent = await startAgentProcess();
    install();
    const up = doctor();
    expect(up.results.filter((r) => r.verdict !== 'pass')).toEqual([]);
    expect(up.byName.agent!.detail).toContain(`pid ${agent.pid} at http://127.0.0.1:${port}`);
    expect(up.byName['claude code']!.detail).toMatch(/Claude Code/);
    expect(up.code).toBe(0);

    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
    expect(existsSync(join(home, 'agent.json'))).toBe(false);
    const down = doctor();
    expect(down.byName.agent).toMatchObject({ verdict: 'fail', detail: 'not running' });
    expect(down.code).toBe(1);
  });

  it('fails on the stale agent.json left by an agent killed with -9', async () => {
    writeConfig();
    const agent = await startAgentProcess();
    install();
    agent.kill('SIGKILL');
    await new Promise((r) => agent.once('exit', r));
    expect(existsSync(join(home, 'agent.json'))).toBe(true);
    const { code, byName } = doctor();
    expect(byName.agent!.verdict).toBe('fail');
    expect(byName.agent!.detail).toMatch(/does not answer/);
    expect(code).toBe(1);
  });

  it('reports export failures and the unreachable endpoint when the collector is down', async () => {
    const closed = await freePort();
    writeConfig({ export: { otlpEndpoint: `http://127.0.0.1:${closed}`, exportTimeoutMs: 1000 } });
    await startAgentProcess();
    install();
    const base = { session_id: SID, transcript_path: '/dev/null', cwd: project };
    await postHook({ ...base, hook_event_name: 'SessionStart', source: 'startup' });
    await postHook({ ...base, hook_event_name: 'SessionEnd', reason: 'other' });
    const result = await waitFor(() => {
      const r = doctor();
      return r.byName['export failures']!.verdict === 'fail' && r;
    }, 20_000, 'a failed export');
    expect(result.byName['export failures']!.detail).toMatch(/span exports failed in the last hour/);
    expect(result.byName['otlp endpoint']!.verdict).toBe('fail');
    expect(result.byName['otlp endpoint']!.detail).toContain(`http://127.0.0.1:${closed}/v1/traces is unreachable`);
    expect(result.byName.agent!.verdict).toBe('pass');
    expect(result.code).toBe(1);
  });
});
