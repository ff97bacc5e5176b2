// `npm run stack:up` with nothing in the environment but PATH and HOME wires the whole fan-out:
// the sink finds this machine's PostgreSQL and Redis by itself, and a real Claude Code session
// (scripted model) sent to the stack's collector lands in both. The test owns its database, Redis
// prefix, state directory and ports (flags of scripts/stack.sh, not environment variables).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupBridge, type Bridge } from '../support/bridge-e2e.js';
import { bash, scenario, text, tools } from '../support/model-server.js';
import { freePort } from '../support/ports.js';
import { PG_ADMIN_URL } from '../sink/support/pg.js';
import { eventually } from '../support/eventually.js';

const ROOT = join(import.meta.dirname, '..', '..');
const tag = `${process.pid}_${Date.now().toString(36)}`;
const DB = `cob_stackup_${tag}`;
const PREFIX = `cob-stackup-${tag}:v1`;

const until = <T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: string) => eventually(what, timeoutMs, check);

describe('npm run stack:up with a clean environment', () => {
  let state: string;
  let portsFile: string;
  const ports: Record<string, number> = {};
  let summary = '';
  let bridge: Bridge | undefined;
  const cleanEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };
  const npm = (script: string, args: string[]) =>
    execFileSync('npm', ['run', '--silent', script, '--', '--state-dir', state, ...args], { cwd: ROOT, env: cleanEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 1_200_000 });

  beforeAll(async () => {
    state = mkdtempSync(join(tmpdir(), 'cob-stackup-'));
    portsFile = join(state, 'test-ports.env');
    for (const line of readFileSync(join(ROOT, 'otel-collector/ports.env'), 'utf8').split('\n')) {
      const key = /^([A-Z_]+_PORT)=/.exec(line)?.[1];
      if (key) ports[key] = await freePort();
    }
    writeFileSync(portsFile, Object.entries(ports).map(([k, v]) => `${k}=${v}\n`).join(''));
    summary = npm('stack:up', ['--ports', portsFile, '--postgres-db', DB, '--redis-prefix', PREFIX]);
  }, 1_500_000);

  afterAll(async () => {
    await bridge?.cleanup();
    try {
      npm('stack:down', []);
    } catch {
      /* reported by the test */
    }
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await admin.end();
    const redis = createClient({ url: 'redis://127.0.0.1:6379' });
    await redis.connect();
    for await (const keys of redis.scanIterator({ MATCH: `${PREFIX}:*`, COUNT: 500 })) if (keys.length) await redis.del(keys);
    await redis.quit();
    rmSync(state, { recursive: true, force: true });
  });

  it('finds PostgreSQL and Redis, prints where to look, and a real session lands in both', async () => {
    // What it found and where to look.
    expect(summary).toContain(`found postgres: 127.0.0.1:5432 as`);
    expect(summary).toContain(`database ${DB} (created)`);
    expect(summary).toContain(`found redis: redis://127.0.0.1:6379, key prefix ${PREFIX}`);
    expect(summary).not.toContain('MISSING');
    expect(summary).toContain(`http://127.0.0.1:${ports.JAEGER_QUERY_HTTP_PORT}/api/traces`);
    expect(summary).toContain(`prometheus  http://127.0.0.1:${ports.PROMETHEUS_PORT}/`);
    expect(summary).toMatch(new RegExp(`ui --source team --postgres postgresql://[^ ]+/${DB} --redis redis://127\\.0\\.0\\.1:6379 --redis-prefix ${PREFIX.replace(/[.]/g, '\\.')}`));
    expect(summary).toContain(`export.otlpEndpoint = http://127.0.0.1:${ports.OTELCOL_OTLP_HTTP_PORT}`);
    const status = npm('stack:status', []);
    for (const s of ['jaeger', 'otelcol', 'prometheus', 'alertmanager', 'sink']) expect(status).toContain(`${s}: running, healthy`);

    // A real session, sent to the stack's collector.
    bridge = await setupBridge(
      scenario({ main: (req) => [tools(bash('echo stack')), text('done')][req.step] ?? text('done') }),
      { allowedTools: ['Bash'], otlpEndpoint: `http://127.0.0.1:${ports.OTELCOL_OTLP_HTTP_PORT}` },
    );
    const run = await bridge.run('go');
    expect(run.exitCode).toBe(0);
    await bridge.stopAgent(); // flushes the export
    const sessionId = run.json!.session_id as string;
    const names = ['claude_code.turn', 'execute_tool Bash', 'invoke_agent claude-code'];
    const expected = names.length + 2; // and one chat span per scripted response

    const config = JSON.parse(readFileSync(join(state, 'sink.json'), 'utf8')) as { postgres: { url: string } };
    const db = new pg.Client({ connectionString: config.postgres.url });
    await db.connect();
    try {
      expect((await db.query('SELECT current_database() AS d')).rows[0].d).toBe(DB);
      const rows = await until(async () => {
        const r = await db.query<{ name: string; tool_name: string | null }>('SELECT name, tool_name FROM spans WHERE session_id = $1', [sessionId]);
        return r.rows.length >= expected ? r.rows : undefined;
      }, 60_000, 'the session in PostgreSQL').catch((err: unknown) => {
        console.error(readFileSync(join(state, 'logs', 'sink.log'), 'utf8').slice(-3000));
        console.error(readFileSync(join(state, 'logs', 'otelcol.log'), 'utf8').slice(-3000));
        throw err;
      });
      expect(rows).toHaveLength(expected);
      expect(rows.map((r) => r.name).filter((n) => !n.startsWith('chat ')).sort()).toEqual(names);
    } finally {
      await db.end();
    }

    const redis = createClient({ url: 'redis://127.0.0.1:6379' });
    await redis.connect();
    try {
      const entries = await until(async () => {
        const e = (await redis.xRange(`${PREFIX}:session:${sessionId}`, '-', '+')).filter((x) => x.message.type === 'span');
        return e.length >= expected ? e : undefined;
      }, 30_000, 'the session stream in Redis');
      expect(new Set(entries.map((e) => e.message.span_id)).size).toBe(expected);
      // Only under our prefix: the default prefix got nothing of this session.
      expect(await redis.exists(`claude-otel:v1:session:${sessionId}`)).toBe(0);
    } finally {
      await redis.quit();
    }

    const jaeger = await until(async () => {
      const res = await fetch(`http://127.0.0.1:${ports.JAEGER_QUERY_HTTP_PORT}/api/traces/${sessionId.replace(/-/g, '')}`);
      const body = res.ok ? ((await res.json()) as { data: { spans: unknown[] }[] }) : undefined;
      return (body?.data[0]?.spans.length ?? 0) >= expected ? body : undefined;
    }, 60_000, 'the trace in Jaeger');
    expect(jaeger.data[0]!.spans).toHaveLength(expected);

    npm('stack:down', []);
    expect(npm('stack:status', [])).toContain('sink: stopped');
    await expect(fetch(`http://127.0.0.1:${ports.SINK_PORT}/healthz`)).rejects.toThrow();
  }, 300_000);

  it('says which destination it did not find and how to point the sink at it, and the sink still starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cob-stackup-missing-'));
    const closed = await freePort();
    const sinkPort = await freePort();
    writeFileSync(join(dir, 'ports.txt'), `SINK_PORT=${sinkPort}\n`);
    const sh = (cmd: string, args: string[] = []) =>
      execFileSync('bash', [join(ROOT, 'scripts/stack.sh'), cmd, '--state-dir', dir, ...args], { env: { ...cleanEnv, CLAUDE_OTEL_STACK_SERVICES: 'sink' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    try {
      const out = sh('up', ['--ports', join(dir, 'ports.txt'), '--postgres-url', `postgresql://nobody@127.0.0.1:${closed}/x`, '--redis-url', `redis://127.0.0.1:${closed}`]);
      expect(out).toContain(`MISSING postgres: postgresql://****@127.0.0.1:${closed}/x (given) does not answer`); // the user name is masked too, as in the config's URLs (a lone user name can be a token)
      expect(out).toContain(`MISSING redis: redis://127.0.0.1:${closed} (given) does not answer`);
      expect(out).not.toContain('--source team'); // no store to show
      expect(JSON.parse(readFileSync(join(dir, 'sink.json'), 'utf8'))).toEqual({});
      expect((await fetch(`http://127.0.0.1:${sinkPort}/healthz`)).status).toBe(200);
    } finally {
      sh('down');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
