// The CLI as a user (or Claude Code) runs it: `node dist/cli.js ...` and bin/claude-otel-hook as
// subprocesses, against a temp CLAUDE_OTEL_HOME, with and without a running agent.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/agent/agent.js';
import { startTestAgent, waitFor, type TestAgent } from '../support/agent-harness.js';
import { processesOfHome, stopProcessesOfHome } from '../support/home-processes.js';
import { freePort } from '../support/ports.js';

const REPO = join(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'dist', 'cli.js');
const BASH_HOOK = join(REPO, 'bin', 'claude-otel-hook');
const SID = 'c11c11c1-0000-4000-8000-00000000000a';

const event = (name: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ session_id: SID, transcript_path: '/dev/null', cwd: '/tmp', hook_event_name: name, ...extra });
const SESSION_START = event('SessionStart', { source: 'startup', model: 'claude-x' });
const PROMPT = event('UserPromptSubmit', { prompt: 'hi', prompt_id: 'p1', permission_mode: 'default' });

let root: string;
let home: string; // CLAUDE_OTEL_HOME
const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'cob-cli-'));
  home = join(root, 'otel-home');
  mkdirSync(join(root, 'home'), { recursive: true });
  mkdirSync(home, { recursive: true, mode: 0o700 });
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  // Whatever a hook started for this home and is still running (an agent that came up after the
  // test's own checks) is stopped before its home goes: else it lives on, recreates the home with
  // the default config and holds the default port.
  await stopProcessesOfHome(home);
  rmSync(root, { recursive: true, force: true });
});

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(CLAUDE_|OTEL_|NODE_ENV$|CI$)/.test(k)) e[k] = v;
  return { ...e, HOME: join(root, 'home'), CLAUDE_OTEL_HOME: home, NO_COLOR: '1', ...extra };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string[], options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Run> {
  const [file, ...args] = cmd[0] === 'hook.sh' ? [BASH_HOOK, ...cmd.slice(1)] : [process.execPath, CLI, ...cmd];
  return new Promise((resolve, reject) => {
    const child = spawn(file!, args, { env: env(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

async function agent(): Promise<TestAgent> {
  const a = await startTestAgent({ home });
  cleanups.push(() => a.stop());
  return a;
}

async function status(a: TestAgent) {
  return (await (await fetch(`${a.url}/v1/status`, { headers: { authorization: `Bearer ${a.token}` } })).json()) as {
    sessions: { sessionId: string; openTurns: number }[];
    spoolBacklog: number;
  };
}

const spooled = (dir = 'new') => {
  try {
    return readdirSync(join(home, 'spool', dir)).filter((f) => f.endsWith('.json')).sort();
  } catch {
    return [];
  }
};

/** An agent the hook started on its own (detached): stopped by the pid it wrote, and waited for. */
function stopDetachedAgentOnCleanup() {
  cleanups.push(async () => {
    let pid: number | undefined;
    try {
      pid = Number(readFileSync(join(home, 'agent.pid'), 'utf8')) || undefined;
    } catch {
      return;
    }
    if (!pid || pid === process.pid || !isAlive(pid)) return;
    process.kill(pid, 'SIGTERM');
    await waitFor(() => !isAlive(pid), 15_000, 'the detached agent to exit');
  });
}

/** config.json that makes `claude-otel agent` refuse to start, so a hook's event stays in the spool. */
const BAD_CONFIG = JSON.stringify({ agent: { port: 'x' } });

describe('claude-otel (dispatch)', () => {
  it('prints usage and exits 2 without a command; --help exits 0', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^usage: claude-otel <command> \[options\]/);
    for (const name of ['agent', 'hook', 'install', 'uninstall', 'config', 'sessions', 'trace', 'status', 'doctor']) expect(r.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toBe(r.stdout);
  });

  it('exits 2 on an unknown command, naming it on stderr', async () => {
    const r = await run(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^claude-otel: unknown command 'frobnicate'/);
    expect(r.stderr).toMatch(/usage: claude-otel/);
  });
});

describe('claude-otel status', () => {
  it('exits 1 when no agent runs, and when agent.json is stale', async () => {
    const r = await run(['status']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/agent: not running/);

    const port = await freePort();
    writeFileSync(join(home, 'agent.json'), JSON.stringify({ pid: 99999999, url: `http://127.0.0.1:${port}`, port, startedAt: '', version: 'x' }));
    writeFileSync(join(home, 'token'), 'abc\n', { mode: 0o600 });
    const stale = await run(['status', '--json']);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/agent: not reachable at http:\/\/127\.0\.0\.1:/);
  });

  it('--json shows the open sessions of a running agent', async () => {
    const a = await agent();
    expect((await a.post(SESSION_START)).status).toBe(200);
    expect((await a.post(PROMPT)).status).toBe(200);
    const r = await run(['status', '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as { pid: number; sessions: { sessionId: string; openTurns: number; openTools: number }[]; otlp: string | null };
    expect(s.pid).toBe(process.pid);
    expect(s.otlp).toBeNull();
    expect(s.sessions).toEqual([expect.objectContaining({ sessionId: SID, openTurns: 1, openTools: 0 })]);

    const text = await run(['status']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^sessions +1 open$/m);
    expect(text.stdout).toContain(`  ${SID}  turns 1`);
    expect(text.stdout).toMatch(/local store only/);
  });
});

describe('claude-otel hook (Node command hook)', () => {
  it('exits 0 silently on empty stdin, malformed JSON and a valid event; the valid event reaches the running agent', async () => {
    const a = await agent();
    for (const input of ['', '{not json', SESSION_START]) {
      const r = await run(['hook'], { input });
      expect({ input, ...r }).toEqual({ input, code: 0, stdout: '', stderr: '' });
    }
    const metrics = await a.metrics();
    expect(metrics).toMatch(/claude_otel_events_total\{event="SessionStart",transport="command"\} 1/);
    expect(metrics).toMatch(/claude_otel_events_rejected_total\{reason="empty"\} 1/);
    expect(metrics).toMatch(/claude_otel_events_rejected_total\{reason="malformed_json"\} 1/);
    expect((await status(a)).sessions.map((s) => s.sessionId)).toEqual([SID]);
    expect(spooled()).toEqual([]);
  });

  it('with no agent (and none that can start), spools the event to $CLAUDE_OTEL_HOME/spool/new', async () => {
    writeFileSync(join(home, 'config.json'), BAD_CONFIG);
    const r = await run(['hook'], { input: SESSION_START, env: { CLAUDE_PID: '4242' } });
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    const files = spooled();
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{16}-4242-\d+\.json$/);
    expect(readFileSync(join(home, 'spool', 'new', files[0]!), 'utf8')).toBe(SESSION_START);
    expect(spooled('tmp')).toEqual([]);
    // The agent the hook started refused (said why in agent.log) and left nothing behind that would
    // claim to be running. Waiting for its answer, not a fixed time: a slow start must not outlive the test.
    await waitFor(() => existsSync(join(home, 'agent.log')) && /agent\.port/.test(readFileSync(join(home, 'agent.log'), 'utf8')), 15_000, 'the refusal in agent.log');
    await waitFor(() => processesOfHome(home).length === 0, 10_000, 'the refused agent to exit');
    expect(existsSync(join(home, 'agent.json'))).toBe(false);
  });

  it('with no agent, spools the event and starts one that ingests it', async () => {
    writeFileSync(join(home, 'config.json'), JSON.stringify({ profile: 'testing', agent: { port: await freePort() } }));
    stopDetachedAgentOnCleanup();
    const r = await run(['hook'], { input: SESSION_START });
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    const info = await waitFor(() => {
      try {
        return JSON.parse(readFileSync(join(home, 'agent.json'), 'utf8')) as { url: string; pid: number };
      } catch {
        return undefined;
      }
    }, 15_000, 'the agent the hook started');
    expect(info.pid).not.toBe(process.pid);
    await waitFor(() => spooled().length === 0, 10_000, 'the spool to drain');
    const metrics = await (await fetch(`${info.url}/metrics`)).text();
    expect(metrics).toMatch(/claude_otel_events_total\{event="SessionStart",transport="spool"\} 1/);
  });
});

describe('bin/claude-otel-hook (bash command hook)', () => {
  it('exits 0 silently and spools every input while no agent can start', async () => {
    writeFileSync(join(home, 'config.json'), BAD_CONFIG);
    // It waits up to ~3 s for an agent to come up: run the three at once.
    const inputs = ['', '{not json', SESSION_START];
    const results = await Promise.all(inputs.map((input) => run(['hook.sh'], { input, env: { CLAUDE_PID: '77' } })));
    for (const r of results) expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    const files = spooled();
    expect(files).toHaveLength(3);
    for (const f of files) expect(f).toMatch(/^\d{16}-77-\d+\.json$/);
    expect(files.map((f) => readFileSync(join(home, 'spool', 'new', f), 'utf8')).sort()).toEqual([...inputs].sort());
    expect(spooled('tmp')).toEqual([]);
    // The agent it tried to start refused, and said why in agent.log.
    await waitFor(() => existsSync(join(home, 'agent.log')) && /agent\.port/.test(readFileSync(join(home, 'agent.log'), 'utf8')), 5_000, 'agent.log');
  });

  it('exits 0 silently; with a running agent the event is ingested from the spool and bad input is set aside', async () => {
    const a = await agent();
    for (const input of ['', '{not json', SESSION_START]) {
      const r = await run(['hook.sh'], { input });
      expect({ input, ...r }).toEqual({ input, code: 0, stdout: '', stderr: '' });
    }
    await waitFor(() => spooled().length === 0 && spooled('rejected').length === 2, 10_000, 'the agent to drain the spool');
    expect(await a.metrics()).toMatch(/claude_otel_events_total\{event="SessionStart",transport="spool"\} 1/);
    expect((await status(a)).sessions.map((s) => s.sessionId)).toEqual([SID]);
  });

  it('with no agent, starts one that ingests the spooled event', async () => {
    writeFileSync(join(home, 'config.json'), JSON.stringify({ profile: 'testing', agent: { port: await freePort() } }));
    stopDetachedAgentOnCleanup();
    const r = await run(['hook.sh'], { input: SESSION_START });
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    // The script returns once the agent is alive (agent.pid), so agent.json follows shortly.
    const info = await waitFor(() => {
      try {
        return JSON.parse(readFileSync(join(home, 'agent.json'), 'utf8')) as { url: string };
      } catch {
        return undefined;
      }
    }, 10_000, 'agent.json');
    await waitFor(() => spooled().length === 0, 10_000, 'the spool to drain');
    expect(await (await fetch(`${info.url}/metrics`)).text()).toMatch(/claude_otel_events_total\{event="SessionStart",transport="spool"\} 1/);
  });
});

describe('claude-otel config', () => {
  it('prints the effective config with the origin of each value, secrets masked', async () => {
    writeFileSync(join(home, 'config.json'), JSON.stringify({ agent: { port: 4555 }, export: { otlpEndpoint: 'https://user:pw@otel.example:4318', otlpHeaders: { authorization: 'Bearer s3cret' } } }));
    const r = await run(['config'], { env: { CLAUDE_OTEL_PROFILE: 'development' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^agent\.port +4555 +\[file .*config\.json\]$/m);
    expect(r.stdout).toMatch(/^profile +"development" +\[env CLAUDE_OTEL_PROFILE\]$/m);
    expect(r.stdout).toMatch(/^export\.flushDelayMs +500 +\[profile development\]$/m);
    expect(r.stdout).not.toContain('s3cret');
    expect(r.stdout).not.toContain('pw@');

    const j = await run(['config', '--json']);
    expect(j.code).toBe(0);
    const parsed = JSON.parse(j.stdout) as { config: { home: string; agent: { port: number }; export: { otlpHeaders: Record<string, string> } }; origins: Record<string, string> };
    expect(parsed.config.home).toBe(home);
    expect(parsed.config.agent.port).toBe(4555);
    expect(parsed.config.export.otlpHeaders.authorization).not.toContain('s3cret');
    expect(parsed.origins['agent.port']).toMatch(/^file /);
  });
});

describe('claude-otel agent', () => {
  it('refuses to start with exit 2 and names the field of a bad config.json', async () => {
    writeFileSync(join(home, 'config.json'), JSON.stringify({ agent: { port: 'x' } }));
    const r = await run(['agent']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^claude-otel agent: refusing to start\./);
    expect(r.stderr).toMatch(/agent\.port \(from file .*config\.json\): "x" is not a number/);
    expect(existsSync(join(home, 'agent.json'))).toBe(false);

    writeFileSync(join(home, 'config.json'), JSON.stringify({ agent: { prot: 4319 } }));
    const unknown = await run(['agent']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/agent\.prot \(from file .*config\.json\): is not a known setting/);
  });

  it('refuses to start with exit 2 and names a bad environment variable', async () => {
    const r = await run(['agent'], { env: { CLAUDE_OTEL_PORT: 'abc' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/agent\.port \(from env CLAUDE_OTEL_PORT\)/);
  });
});
