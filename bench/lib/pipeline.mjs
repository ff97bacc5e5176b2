// What the pipeline benches (bench/sinks/freshness.mjs, bench/ui/freshness.mjs) start and measure
// with, written once: the processes they start (agent, sink, collector + Jaeger through
// scripts/stack.sh) each stopped at the end by a scope, a scratch database and Redis prefix, hook
// payloads with fresh ids, and the figures (quantiles, a report section in a docs file).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { createClient } from 'redis';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const PG_ADMIN = process.env.CLAUDE_OTEL_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.CLAUDE_OTEL_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const rand = (lo, hi) => lo + Math.random() * (hi - lo);

export function quantile(xs, q) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
export const stats = (xs) => ({ n: xs.length, p50: quantile(xs, 0.5), p95: quantile(xs, 0.95), max: xs.length ? Math.max(...xs) : NaN });

/** A loopback port for another process to listen on, outside the ephemeral range (src/shared/free-port.ts). */
export const { freePort } = await import(new URL('../../dist/shared/free-port.js', import.meta.url).href);

/** The checkout's short commit, or 'unknown'. */
export function commitOf(root = ROOT) {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Each profile's agent flush delay, as the built agent has it (src/config/profiles.ts). */
export async function flushDelays() {
  const { PROFILE_OVERRIDES } = await import(join(ROOT, 'dist/config/profiles.js'));
  return Object.fromEntries(Object.entries(PROFILE_OVERRIDES).map(([name, o]) => [name, o.export?.flushDelayMs]));
}

/**
 * Hook payloads of the given files (`<dir>/<name>.json`, real Claude Code payloads) as templates:
 * `fill(name, sessionId, promptId, toolUseId, extra)` gives one with those ids (and `extra` fields).
 */
export function hookTemplates(dir, names) {
  const tpl = {};
  for (const name of names) {
    const ev = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
    let s = JSON.stringify(ev);
    s = s.split(ev.session_id).join('@SID@');
    if (typeof ev.prompt_id === 'string') s = s.split(ev.prompt_id).join('@PID@');
    if (typeof ev.tool_use_id === 'string') s = s.split(ev.tool_use_id).join('@TID@');
    tpl[name] = s;
  }
  return (name, sid, pid, tid = '', extra) => {
    const s = tpl[name].replaceAll('@SID@', sid).replaceAll('@PID@', pid).replaceAll('@TID@', tid);
    return extra ? JSON.stringify({ ...JSON.parse(s), ...extra }) : s;
  };
}

/** What a bench starts, undone last-first by `close()` (also on SIGINT); a failing undo is logged. */
export function createScope(say) {
  const undo = [];
  const close = async () => {
    while (undo.length) {
      try {
        await undo.pop()();
      } catch (err) {
        say(`cleanup: ${err.message}`);
      }
    }
  };
  process.once('SIGINT', () => close().finally(() => process.exit(130)));
  return { defer: (fn) => undo.push(fn), close };
}

/** SIGTERM, then SIGKILL after `timeoutMs`; resolves once the child is gone. */
export function stopChild(child, timeoutMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  return Promise.race([exited, sleep(timeoutMs).then(() => child.kill('SIGKILL'))]);
}

/** A database of our own (dropped at the end) and a Redis prefix of our own (its keys deleted at the end). */
export async function scratchStores(scope, name) {
  const dbName = `bench_${name}_${process.pid}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  scope.defer(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  });
  const dbUrl = new URL(PG_ADMIN);
  dbUrl.pathname = `/${dbName}`;
  const prefix = `claude-otel-bench-${name}:${process.pid}`;
  const redis = createClient({ url: REDIS_URL });
  await redis.connect();
  scope.defer(async () => {
    for await (const keys of redis.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1000 })) if (keys.length) await redis.del(keys);
    await redis.close();
  });
  return { dbUrl: dbUrl.toString(), prefix, redis };
}

/** The sink in its own process (bench/sinks/sink-process.mjs: the service code of `claude-otel sink`) on our stores. */
export async function startSink(scope, { work, dbUrl, prefix }) {
  const port = await freePort();
  const config = { listen: { host: '127.0.0.1', port }, postgres: { url: dbUrl, poolSize: 4 }, redis: { url: REDIS_URL } };
  const logFile = join(work, 'sink.log');
  const child = spawn(process.execPath, [join(ROOT, 'bench/sinks/sink-process.mjs'), JSON.stringify(config), prefix], { stdio: ['ignore', 'pipe', openSync(logFile, 'a')] });
  scope.defer(() => stopChild(child));
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0]).url);
    });
    child.once('exit', (c) => reject(new Error(`sink exited ${c}: ${readFileSync(logFile, 'utf8').slice(-800)}`)));
  });
  return { url, port };
}

/**
 * The collector and Jaeger (scripts/stack.sh, otel-collector/config.yaml) on free ports, exporting
 * to the sink; `env` is added to the stack's environment (OTELCOL_BIN, say). Stopped at the end.
 */
export async function startStack(scope, { work, sink, env: extra = {} }) {
  const env = { ...process.env };
  for (const line of readFileSync(join(ROOT, 'otel-collector/ports.env'), 'utf8').split('\n')) {
    const key = /^([A-Z_]+_PORT)=/.exec(line)?.[1];
    if (key) env[key] = String(await freePort());
  }
  const dir = join(work, 'stack');
  Object.assign(env, { CLAUDE_OTEL_STACK_DIR: dir, CLAUDE_OTEL_STACK_SERVICES: 'jaeger otelcol', OTELCOL_SINK_ENDPOINT: sink.url, SINK_PORT: String(sink.port) }, extra);
  const stack = (cmd) => execFileSync('bash', [join(ROOT, 'scripts/stack.sh'), cmd], { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 600_000 });
  scope.defer(async () => stack('down'));
  stack('up');
  return { dir, otlpEndpoint: `http://127.0.0.1:${env.OTELCOL_OTLP_HTTP_PORT}`, batchTimeout: env.OTELCOL_BATCH_TIMEOUT ?? '200ms' };
}

/**
 * `node dist/cli.js agent` in its own process with a home of its own (`config` is its config.json,
 * the port added) and none of our environment's OTEL_ / CLAUDE_OTEL_ settings. Resolves once it
 * answers /healthz; `post(body)` sends a hook event and counts the ones not answered 2xx.
 */
export async function startAgent(scope, { home, config, timeoutMs = 20_000 }) {
  mkdirSync(home, { recursive: true });
  const port = await freePort();
  writeFileSync(join(home, 'config.json'), JSON.stringify({ ...config, agent: { ...config.agent, port } }));
  const env = { ...process.env, CLAUDE_OTEL_HOME: home };
  for (const k of Object.keys(env)) if (k.startsWith('OTEL_') || (k.startsWith('CLAUDE_OTEL_') && k !== 'CLAUDE_OTEL_HOME')) delete env[k];
  const logFd = openSync(join(home, 'agent.log'), 'a');
  const child = spawn(process.execPath, [join(ROOT, 'dist/cli.js'), 'agent'], { env, stdio: ['ignore', logFd, logFd] });
  scope.defer(() => stopChild(child));
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + timeoutMs; ; await sleep(50)) {
    if (child.exitCode !== null) throw new Error(`agent exited ${child.exitCode}: ${readFileSync(join(home, 'agent.log'), 'utf8').slice(-800)}`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error(`agent did not answer /healthz within ${timeoutMs / 1000} s`);
  }
  const headers = { authorization: `Bearer ${readFileSync(join(home, 'token'), 'utf8').trim()}`, 'content-type': 'application/json' };
  let errors = 0;
  const post = async (body) => {
    const r = await fetch(`${url}/v1/hooks`, { method: 'POST', body, headers }).catch(() => undefined);
    if (!r?.ok) errors++;
    await r?.arrayBuffer();
  };
  return { child, url, headers, post, errors: () => errors, stop: () => stopChild(child) };
}

/** The command line that made a report, without the flags that only say where it goes. */
export function commandLine(script, outputFlags) {
  const argv = process.argv.slice(2);
  return `node ${script} ${argv.filter((a, i) => !outputFlags.includes(a) && !outputFlags.includes(argv[i - 1])).join(' ')}`.trim();
}

/** Replaces the `name` section (between its begin/end markers) of the file, or appends it. */
export function writeSection(file, name, text, title = '# Benchmarks') {
  const old = existsSync(file) ? readFileSync(file, 'utf8') : `${title}\n`;
  const re = new RegExp(`<!-- ${name}:begin[^]*?<!-- ${name}:end -->`);
  writeFileSync(file, re.test(old) ? old.replace(re, () => text) : `${old.trimEnd()}\n\n${text}\n`);
}
