/** Helpers shared by bench/hook-cost and bench/agent-load (compiled with bench/hook-cost/tsconfig.json). */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { AGENT_NODE_FLAGS } from '../../src/agent/node-flags.js';

/** The repository root: the nearest directory above this file whose package.json is ours. */
export function repoRoot(): string {
  let dir = dirname(new URL(import.meta.url).pathname);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'claude-otel-bridge') return dir;
    const up = resolve(dir, '..');
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
}

export const CLI = () => join(repoRoot(), 'dist', 'cli.js');
export const HOOK_SCRIPT = () => join(repoRoot(), 'bin', 'claude-otel-hook');

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

/** Linear-interpolated quantile (q in [0,1]). */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export const round = (x: number, digits = 2) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

export interface AgentProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  token: string;
  stop(): Promise<void>;
}

/** Writes config.json into home and starts `node dist/cli.js agent` as our child; waits for /healthz. */
export async function startAgentProcess(opts: {
  home: string;
  port: number;
  otlpEndpoint?: string;
  profile?: string;
  nodeArgs?: string[];
  extraConfig?: Record<string, unknown>;
  /** Added to the agent's environment (after ours, so it wins). */
  env?: Record<string, string>;
}): Promise<AgentProcess> {
  mkdirSync(opts.home, { recursive: true });
  const config: Record<string, unknown> = { profile: opts.profile ?? 'testing', agent: { port: opts.port }, ...(opts.extraConfig ?? {}) };
  if (opts.otlpEndpoint) config.export = { otlpEndpoint: opts.otlpEndpoint };
  writeFileSync(join(opts.home, 'config.json'), JSON.stringify(config));
  const log = openSync(join(opts.home, 'agent.log'), 'a');
  const env: NodeJS.ProcessEnv = { ...process.env, CLAUDE_OTEL_HOME: opts.home };
  for (const k of Object.keys(env)) if (k.startsWith('OTEL_')) delete env[k];
  Object.assign(env, opts.env ?? {});
  // The flags a hook starts the agent with (src/agent/node-flags.ts); the caller's come after and win.
  const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, ...(opts.nodeArgs ?? []), CLI(), 'agent'], { env, stdio: ['ignore', log, log] });
  const url = `http://127.0.0.1:${opts.port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode}: ${readFileSync(join(opts.home, 'agent.log'), 'utf8').slice(-800)}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error('agent did not answer /healthz within 15 s');
    await sleep(50);
  }
  const token = readFileSync(join(opts.home, 'token'), 'utf8').trim();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child, pid: child.pid!, url, token,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000)]);
    },
  };
}

/** Stops a process we caused to start (by pid) and waits until it is gone. */
export async function stopPid(pid: number, timeoutMs = 15_000): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (/\) [ZX] /.test(stat)) return;
    } catch {
      return;
    }
    await sleep(20);
  }
}

/** VmHWM / VmRSS of a process in MB, from /proc. */
export function memoryMb(pid: number): { hwm: number; rss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { hwm: kb('VmHWM') / 1024, rss: kb('VmRSS') / 1024 };
}

/** Cumulative histogram buckets ({le → count}) plus sum and count of one Prometheus histogram. */
export interface Histogram {
  buckets: { le: number; count: number }[];
  sum: number;
  count: number;
}

/** Label sets are added up; `label` (e.g. `transport="http"`) keeps only the series that carry it. */
export function parseHistogram(text: string, name: string, label?: string): Histogram | undefined {
  const buckets: { le: number; count: number }[] = [];
  let sum = 0;
  let count = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    if (label && !line.includes(label)) continue;
    if (line.startsWith(`${name}_bucket{`)) {
      const le = /le="([^"]+)"/.exec(line)?.[1];
      const v = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (le === undefined) continue;
      const bound = le === '+Inf' ? Infinity : Number(le);
      const existing = buckets.find((b) => b.le === bound);
      if (existing) existing.count += v; // several label sets: add up
      else buckets.push({ le: bound, count: v });
      seen = true;
    } else if (line.startsWith(`${name}_sum`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    else if (line.startsWith(`${name}_count`)) count += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  if (!seen) return undefined;
  buckets.sort((a, b) => a.le - b.le);
  return { buckets, sum, count };
}

export function diffHistogram(after: Histogram, before: Histogram | undefined): Histogram {
  if (!before) return after;
  return {
    buckets: after.buckets.map((b) => ({ le: b.le, count: b.count - (before.buckets.find((x) => x.le === b.le)?.count ?? 0) })),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  };
}

/** Two histograms of the same buckets added up (e.g. two label sets). */
export function addHistogram(a: Histogram, b: Histogram): Histogram {
  return {
    buckets: a.buckets.map((x) => ({ le: x.le, count: x.count + (b.buckets.find((y) => y.le === x.le)?.count ?? 0) })),
    sum: a.sum + b.sum,
    count: a.count + b.count,
  };
}

/** Quantile from cumulative buckets: the upper bound of the bucket that holds it, and a linear
 *  interpolation inside that bucket (Prometheus' histogram_quantile). */
export function histogramQuantile(h: Histogram, q: number): { bound: number; interpolated: number } {
  const total = h.buckets[h.buckets.length - 1]?.count ?? h.count;
  if (!total) return { bound: NaN, interpolated: NaN };
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of h.buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return { bound: Infinity, interpolated: prevLe };
      const inBucket = b.count - prevCount;
      const interpolated = inBucket > 0 ? prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket : b.le;
      return { bound: b.le, interpolated };
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return { bound: Infinity, interpolated: prevLe };
}

/** Name of the first metric whose name contains `part` (Prometheus text format). */
export function findMetric(text: string, part: string, suffix = ''): string | undefined {
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+) /.exec(line);
    if (m && m[1]!.includes(part) && m[1]!.endsWith(suffix)) return m[1];
  }
  return undefined;
}

export function machine() {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['-C', repoRoot(), 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    /* not a git checkout */
  }
  return { nproc: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, commit, date: new Date().toISOString() };
}
