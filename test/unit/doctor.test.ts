// `claude-otel doctor`, in process: one failure at a time against a temp CLAUDE_OTEL_HOME, asserting on
// the --json output; and the happy path with an in-process agent and hooks installed.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDoctorCommand } from '../../src/cli/doctor-command.js';
import { runInstallCommand } from '../../src/install/commands.js';
import { startTestAgent, type TestAgent } from '../support/agent-harness.js';
import { freePort } from '../support/ports.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';

const CLAUDE_BIN = join(import.meta.dirname, '..', '..', 'node_modules', '@anthropic-ai', 'claude-code-linux-x64', 'claude');

interface Result {
  name: string;
  verdict: 'pass' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

let root: string;
let home: string; // CLAUDE_OTEL_HOME
let userHome: string;
let project: string;
const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'cob-doctor-'));
  home = join(root, 'otel-home');
  userHome = join(root, 'home');
  project = join(root, 'project');
  for (const d of [home, userHome, project]) mkdirSync(d, { recursive: true, mode: 0o700 });
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  rmSync(root, { recursive: true, force: true });
});

function env(extra: Record<string, string> = {}): Record<string, string | undefined> {
  return { PATH: process.env.PATH, HOME: userHome, CLAUDE_OTEL_HOME: home, CLAUDE_BIN, ...extra };
}

async function doctor(argv: string[] = [], extraEnv: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const code = await runDoctorCommand(['--json', '--project-dir', project, ...argv], {
    stdout: (s) => (out += s), stderr: (s) => (err += s), env: env(extraEnv), homedir: () => userHome,
  });
  expect(err).toBe('');
  const results = JSON.parse(out) as Result[];
  const byName = Object.fromEntries(results.map((r) => [r.name, r])) as Record<string, Result>;
  return { code, results, byName };
}

function install(scope = 'project') {
  let out = '';
  let err = '';
  const code = runInstallCommand(['--scope', scope, '--project-dir', project], {
    stdout: (s) => (out += s), stderr: (s) => (err += s), env: env(), homedir: () => userHome,
  } as Parameters<typeof runInstallCommand>[1]);
  expect(code, `${out}${err}`).toBe(0);
}

async function agent(extraEnv: Record<string, string> = {}): Promise<TestAgent> {
  const a = await startTestAgent({ home, env: extraEnv });
  cleanups.push(() => a.stop());
  return a;
}

function httpServer(status: number): Promise<{ url: string; server: Server }> {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(status).end());
    });
    server.listen(0, '127.0.0.1', () => {
      const a = server.address() as { port: number };
      cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
      resolve({ url: `http://127.0.0.1:${a.port}`, server });
    });
  });
}

describe('claude-otel doctor', () => {
  it('prints every check in a fixed order', async () => {
    const { results } = await doctor();
    expect(results.map((r) => r.name)).toEqual(['claude code', 'hooks', 'install', 'config', 'home', 'agent', 'token', 'otlp endpoint', 'backlog', 'export failures']);
  });

  it('passes the Claude Code version check with the real binary (CLAUDE_BIN) and warns without one', async () => {
    const { byName } = await doctor();
    expect(byName['claude code']).toMatchObject({ verdict: 'pass' });
    expect(byName['claude code']!.detail).toMatch(/^\d+\.\d+\.\d+ \(Claude Code\)$/);
    const missing = await doctor([], { CLAUDE_BIN: join(root, 'no-such-claude') });
    expect(missing.byName['claude code']!.verdict).toBe('warn');
  });

  it('fails when the agent is down (no agent.json) and exits 1', async () => {
    install();
    const { code, byName } = await doctor();
    expect(byName.agent).toMatchObject({ verdict: 'fail', detail: 'not running' });
    expect(byName.agent!.fix).toMatch(/claude-otel agent/);
    expect(byName['export failures']!.verdict).toBe('warn');
    expect(code).toBe(1);
  });

  it('fails on a stale agent.json (the agent died without removing it) and exits 1', async () => {
    install();
    const port = await freePort();
    writeFileSync(join(home, 'agent.json'), JSON.stringify({ pid: 999_999_99, url: `http://127.0.0.1:${port}`, port, startedAt: new Date().toISOString(), version: '0.1.0' }));
    writeFileSync(join(home, 'agent.pid'), '99999999\n');
    const { code, byName } = await doctor();
    expect(byName.agent!.verdict).toBe('fail');
    expect(byName.agent!.detail).toContain(`http://127.0.0.1:${port}`);
    expect(byName.agent!.detail).toMatch(/does not answer/);
    expect(byName.agent!.fix).toMatch(/claude-otel agent/);
    expect(code).toBe(1);
  });

  it('fails when the token file is readable by others, with the chmod fix', async () => {
    const a = await agent();
    install();
    chmodSync(join(home, 'token'), 0o644);
    const { code, byName } = await doctor();
    expect(byName.agent!.verdict).toBe('pass');
    expect(byName.token).toMatchObject({ verdict: 'fail', fix: `chmod 600 ${join(home, 'token')}` });
    expect(byName.token!.detail).toMatch(/mode 644/);
    expect(code).toBe(1);
    chmodSync(join(home, 'token'), 0o600);
    expect((await doctor()).code).toBe(0);
    void a;
  });

  it('fails the home line for a home that is a symbolic link, and warns on modes we own and can tighten', async () => {
    chmodSync(home, 0o755);
    const loose = await doctor();
    expect(loose.byName.home).toMatchObject({ verdict: 'warn' });
    expect(loose.byName.home!.detail).toMatch(/mode 755: group or others have access/);
    chmodSync(home, 0o700);
    expect((await doctor()).byName.home!.verdict).toBe('pass');
    const real = join(root, 'elsewhere');
    mkdirSync(real, { mode: 0o700 });
    const linked = join(root, 'linked-home');
    symlinkSync(real, linked);
    const refused = await doctor([], { CLAUDE_OTEL_HOME: linked });
    expect(refused.byName.home).toMatchObject({ verdict: 'fail' });
    expect(refused.byName.home!.detail).toContain(`${linked} is a symbolic link`);
    expect(refused.code).toBe(1);
  });

  it('fails the token line for a token that is a symbolic link (lstat, not stat)', async () => {
    const target = join(root, 'someone-elses-file');
    writeFileSync(target, 'a'.repeat(64), { mode: 0o600 });
    symlinkSync(target, join(home, 'token'));
    const { byName } = await doctor();
    expect(byName.token).toMatchObject({ verdict: 'fail' });
    expect(byName.token!.detail).toMatch(/symbolic link/);
  });

  it('says why the agent cannot start: the failed-start marker and the tail of agent.log', async () => {
    writeFileSync(join(home, 'agent.start-failed'), `${Math.floor(Date.now() / 1000) + 60} 3 ${Math.floor(Date.now() / 1000)} ENOSPC -\nno space left on device, write\n`, { mode: 0o600 });
    writeFileSync(join(home, 'agent.log'), 'line one\nclaude-otel: ENOSPC: no space left on device, write\n', { mode: 0o600 });
    const { code, byName } = await doctor();
    expect(byName.agent!.verdict).toBe('fail');
    expect(byName.agent!.detail).toMatch(/^cannot start \(ENOSPC\): no space left on device, write; 3 failed start\(s\)/);
    expect(byName.agent!.detail).toContain('agent.log: line one | claude-otel: ENOSPC');
    expect(code).toBe(1);
  });

  it('warns (does not fail) when there is no token yet', async () => {
    const { byName } = await doctor();
    expect(byName.token!.verdict).toBe('warn');
  });

  it('fails when the configured OTLP endpoint is unreachable (closed port)', async () => {
    const port = await freePort();
    writeFileSync(join(home, 'config.json'), JSON.stringify({ export: { otlpEndpoint: `http://127.0.0.1:${port}` } }));
    const { code, byName } = await doctor();
    expect(byName.config!.verdict).toBe('pass');
    expect(byName['otlp endpoint']!.verdict).toBe('fail');
    expect(byName['otlp endpoint']!.detail).toContain(`http://127.0.0.1:${port}/v1/traces is unreachable`);
    expect(byName['otlp endpoint']!.fix).toMatch(/otlpEndpoint/);
    expect(code).toBe(1);
  });

  it('fails when the endpoint answers 5xx, passes a real OTLP receiver, and reads OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    const broken = await httpServer(503);
    writeFileSync(join(home, 'config.json'), JSON.stringify({ export: { otlpEndpoint: broken.url } }));
    const bad = await doctor();
    expect(bad.byName['otlp endpoint']).toMatchObject({ verdict: 'fail', detail: `${broken.url}/v1/traces answered 503` });

    const receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    writeFileSync(join(home, 'config.json'), JSON.stringify({ export: { otlpEndpoint: receiver.url } }));
    expect((await doctor()).byName['otlp endpoint']!.verdict).toBe('pass');

    rmSync(join(home, 'config.json'));
    const viaEnv = await doctor([], { OTEL_EXPORTER_OTLP_ENDPOINT: broken.url });
    expect(viaEnv.byName['otlp endpoint']!.verdict).toBe('fail');
  });

  it('passes the endpoint check when none is configured (local store only)', async () => {
    const { byName } = await doctor();
    expect(byName['otlp endpoint']!.verdict).toBe('pass');
    expect(byName['otlp endpoint']!.detail).toMatch(/local store/);
  });

  it('fails the config line naming the field: agent.port "x"', async () => {
    writeFileSync(join(home, 'config.json'), JSON.stringify({ agent: { port: 'x' } }));
    const { code, byName } = await doctor();
    expect(byName.config!.verdict).toBe('fail');
    expect(byName.config!.detail).toMatch(/^agent\.port: /);
    expect(byName.config!.detail).toContain('"x"');
    expect(byName.config!.fix).toMatch(/port from 1 to 65535/);
    expect(code).toBe(1);
  });

  it('fails the config line naming an unknown field, and a file that is not JSON', async () => {
    writeFileSync(join(home, 'config.json'), JSON.stringify({ agent: { prot: 4319 } }));
    const unknown = await doctor();
    expect(unknown.byName.config!.verdict).toBe('fail');
    expect(unknown.byName.config!.detail).toMatch(/agent\.prot: is not a known setting/);
    expect(unknown.code).toBe(1);

    writeFileSync(join(home, 'config.json'), '{"agent": {');
    const broken = await doctor();
    expect(broken.byName.config!.verdict).toBe('fail');
    expect(broken.code).toBe(1);
  });

  it('fails the config line (instead of crashing) when config.json cannot be read', async () => {
    mkdirSync(join(home, 'config.json'));
    const { code, byName } = await doctor();
    expect(byName.config!.verdict).toBe('fail');
    expect(byName.config!.detail).toMatch(/cannot read the config file \(EISDIR/);
    expect(code).toBe(1);
  });

  it('fails the config line for a bad environment variable, naming it', async () => {
    const { byName } = await doctor([], { CLAUDE_OTEL_PORT: 'abc' });
    expect(byName.config!.verdict).toBe('fail');
    expect(byName.config!.detail).toMatch(/^agent\.port: /);
    expect(byName.config!.fix).toMatch(/CLAUDE_OTEL_PORT/);
  });

  it('fails the hooks line when nothing is installed, and finds each scope', async () => {
    expect((await doctor()).byName.hooks).toMatchObject({ verdict: 'fail' });
    install('local');
    expect((await doctor()).byName.hooks).toMatchObject({ verdict: 'pass', detail: 'installed in scope local' });
    install('user');
    expect((await doctor()).byName.hooks!.detail).toBe('installed in scope user, local');
  });

  it('fails the backlog when events wait in the spool and no agent runs to ingest them', async () => {
    mkdirSync(join(home, 'spool', 'new'), { recursive: true });
    writeFileSync(join(home, 'spool', 'new', '1-0-1.json'), '{}');
    const { byName } = await doctor();
    expect(byName.backlog!.verdict).toBe('fail');
    expect(byName.backlog!.detail).toMatch(/spool 1 waiting/);
    expect(byName.backlog!.fix).toMatch(/claude-otel agent/);
  });

  it('exits 0 with a running agent and hooks installed (and a reachable endpoint)', async () => {
    const receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    writeFileSync(join(home, 'config.json'), JSON.stringify({ export: { otlpEndpoint: receiver.url } }));
    const a = await agent();
    install();
    const { code, results, byName } = await doctor();
    expect(results.filter((r) => r.verdict !== 'pass')).toEqual([]);
    expect(byName.agent!.detail).toContain(a.url);
    expect(byName.hooks!.detail).toBe('installed in scope project');
    expect(byName['export failures']!.detail).toBe('none in the last hour');
    expect(code).toBe(0);
  });

  it('prints a readable line per check, with the fix under a failure', async () => {
    let out = '';
    const code = await runDoctorCommand(['--project-dir', project], { stdout: (s) => (out += s), stderr: () => {}, env: env(), homedir: () => userHome });
    expect(code).toBe(1);
    expect(out).toMatch(/^\[FAIL\] agent +not running$/m);
    expect(out).toMatch(/^ +fix: it starts with the next Claude Code session/m);
    expect(out).toMatch(/^\[ok  \] claude code/m);
  });
});
