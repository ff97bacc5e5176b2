/**
 * A real agent process for the fault tests: `node <agent flags> dist/cli.js agent` against its own
 * home and port, started the way the hooks start it (same V8 flags, so the 128 MB heap is real).
 * CLAUDE_OTEL_FAULT_CLI points it at another build (e.g. one of the code before a fix) to see a
 * test fail there first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_NODE_FLAGS } from '../../src/agent/node-flags.js';
import { freePort } from '../support/ports.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = process.env.CLAUDE_OTEL_FAULT_CLI ?? join(ROOT, 'dist', 'cli.js');

export interface AgentProcess {
  child: ChildProcess;
  home: string;
  port: number;
  url: string;
  token: string;
  log(): string;
  exited: Promise<number | null>;
  alive(): boolean;
  post(body: string | Buffer): Promise<number>;
  healthy(timeoutMs?: number): Promise<boolean>;
  status(): Promise<Record<string, unknown>>;
  metrics(): Promise<string>;
  /** Sum of a Prometheus counter's series whose labels contain `match`. */
  counter(name: string, match?: string): Promise<number>;
  rssBytes(): number;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function tempHome(prefix = 'cob-fault-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeHome(home: string) {
  rmSync(home, { recursive: true, force: true });
}

/** Starts an agent and waits until it answers, or until it exits (then `exited` says how). */
export async function startAgentProcess(options: { home?: string; port?: number; env?: Record<string, string>; waitMs?: number } = {}): Promise<AgentProcess> {
  const home = options.home ?? tempHome();
  const port = options.port ?? (await freePort());
  const env = { ...process.env, CLAUDE_OTEL_HOME: home, CLAUDE_OTEL_PORT: String(port), CLAUDE_OTEL_PROFILE: 'testing', ...options.env };
  const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, CLI, 'agent'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-200_000)));
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (c, s) => resolve((code = c ?? (s ? -1 : null)))));
  const url = `http://127.0.0.1:${port}`;
  const token = () => (existsSync(join(home, 'token')) ? readFileSync(join(home, 'token'), 'utf8').trim() : '');
  const get = (path: string, timeoutMs = 5000) => fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token()}` }, signal: AbortSignal.timeout(timeoutMs) });
  const agent: AgentProcess = {
    child, home, port, url,
    get token() {
      return token();
    },
    log: () => log,
    exited,
    alive: () => code === undefined,
    async post(body) {
      const res = await fetch(`${url}/v1/hooks`, {
        method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), signal: AbortSignal.timeout(30_000),
        headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' },
      });
      await res.text();
      return res.status;
    },
    async healthy(timeoutMs = 5000) {
      try {
        return (await get('/healthz', timeoutMs)).status === 200;
      } catch {
        return false;
      }
    },
    status: async () => (await (await get('/v1/status')).json()) as Record<string, unknown>,
    metrics: async () => (await get('/metrics')).text(),
    async counter(name, match = '') {
      const text = await agent.metrics();
      let sum = 0;
      for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))) if ((m[1] ?? '').includes(match)) sum += Number(m[2]);
      return sum;
    },
    rssBytes() {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
      } catch {
        return 0;
      }
    },
    async stop(signal = 'SIGTERM') {
      if (code === undefined) child.kill(signal);
      return exited;
    },
  };
  const deadline = Date.now() + (options.waitMs ?? 30_000);
  while (Date.now() < deadline && code === undefined) {
    if (existsSync(join(home, 'agent.json')) && (await agent.healthy(1000))) return agent;
    await new Promise((r) => setTimeout(r, 50));
  }
  return agent; // exited (or never answered): the test looks at `alive()` and `log()`
}

export async function waitUntil<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
