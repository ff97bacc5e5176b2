import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, waitUntil } from './support/http.js';
import { type TestDatabase, createTestDatabase } from './support/pg.js';
import { buildSyntheticSession, chunkedBodies } from './support/session.js';
import { type TestSink, startTestSink } from './support/sink.js';
import { type FaultProxy, startFaultProxy } from './support/tcp-proxy.js';

/**
 * The outage is a TCP proxy cut (every connection killed, new ones refused), which is what the
 * sink sees when Postgres restarts, without disturbing other users of the shared server.
 * The last test also restarts the real cluster with pg_ctlcluster.
 */
describe('Postgres outage mid-ingest', () => {
  let db: TestDatabase;
  let proxy: FaultProxy;
  let sink: TestSink;
  const session = buildSyntheticSession({ extraTools: 400 });
  const bodies = chunkedBodies(session.spans, 20);

  beforeAll(async () => {
    db = await createTestDatabase('pgfault');
    proxy = await startFaultProxy(5432);
    sink = await startTestSink({ postgres: { url: db.urlVia(proxy.port), statementTimeoutMs: 2_000 }, writeTimeoutMs: 3_000 });
  });
  afterAll(async () => {
    await sink?.service.shutdown();
    await proxy?.close();
    await db?.drop();
  });

  const count = async () => (await db.pool.query('SELECT count(*)::int AS n, count(DISTINCT (trace_id, span_id))::int AS d FROM spans')).rows[0] as { n: number; d: number };

  it('answers 503 while down, then a replay of every body loses and duplicates nothing', async () => {
    const statuses: number[] = [];
    const half = Math.floor(bodies.length / 2);
    // First half in flight concurrently, with the outage starting in the middle of it.
    const first = Promise.all(bodies.slice(0, half).map(async (b, i) => {
      await new Promise((r) => setTimeout(r, i * 5));
      const res = await postJson(`${sink.url}/v1/traces`, b, sink.auth);
      statuses.push(res.status);
    }));
    await new Promise((r) => setTimeout(r, (half * 5) / 2));
    await proxy.down();
    await first;
    // While down: every request is retryable, never 500.
    for (const b of bodies.slice(half)) {
      const res = await postJson(`${sink.url}/v1/traces`, b, sink.auth);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      statuses.push(res.status);
    }
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses).toContain(503);
    await proxy.up();
    // The collector retries what failed; replaying everything is also safe.
    await waitUntil(async () => (await postJson(`${sink.url}/v1/traces`, bodies[0], sink.auth)).status === 200, 20_000, 'postgres back');
    for (const b of bodies) expect((await postJson(`${sink.url}/v1/traces`, b, sink.auth)).status).toBe(200);
    expect(await count()).toEqual({ n: session.spans.length, d: session.spans.length });
  });

  it('recovers from backends killed by the server (57P01, as in a fast shutdown)', async () => {
    await db.pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
    const first = await postJson(`${sink.url}/v1/traces`, bodies[1], sink.auth);
    expect([200, 503]).toContain(first.status);
    await waitUntil(async () => (await postJson(`${sink.url}/v1/traces`, bodies[1], sink.auth)).status === 200, 10_000, 'pool refilled');
    expect(await count()).toEqual({ n: session.spans.length, d: session.spans.length });
  });

  it('starts while Postgres is unreachable and becomes ready when it is back', async () => {
    const db2 = await createTestDatabase('pgfault2');
    const proxy2 = await startFaultProxy(5432);
    await proxy2.down();
    const late = await startTestSink({ postgres: { url: db2.urlVia(proxy2.port) } });
    try {
      expect((await postJson(`${late.url}/v1/traces`, bodies[0], late.auth)).status).toBe(503);
      await proxy2.up();
      await waitUntil(async () => (await postJson(`${late.url}/v1/traces`, bodies[0], late.auth)).status === 200, 20_000, 'migrations after outage');
      const n = await db2.pool.query('SELECT count(*)::int AS n FROM spans');
      expect(n.rows[0].n).toBe(20);
    } finally {
      await late.service.shutdown();
      await proxy2.close();
      await db2.drop();
    }
  });

  // The real thing: the machine's PostgreSQL cluster is stopped and started (test files run one at
  // a time, and the finally block restarts it whatever happens).
  it('survives a real pg_ctlcluster restart', async () => {
    const db3 = await createTestDatabase('pgrestart');
    const direct = await startTestSink({ postgres: { url: db3.url } });
    const version = readdirSync('/etc/postgresql')[0]!;
    try {
      for (const b of bodies.slice(0, 5)) expect((await postJson(`${direct.url}/v1/traces`, b, direct.auth)).status).toBe(200);
      execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'stop', '-m', 'fast']);
      expect((await postJson(`${direct.url}/v1/traces`, bodies[5], direct.auth)).status).toBe(503);
      execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']);
      await waitUntil(async () => (await postJson(`${direct.url}/v1/traces`, bodies[5], direct.auth)).status === 200, 30_000, 'restart');
      for (const b of bodies) expect((await postJson(`${direct.url}/v1/traces`, b, direct.auth)).status).toBe(200);
      const n = await db3.pool.query('SELECT count(*)::int AS n FROM spans');
      expect(n.rows[0].n).toBe(session.spans.length);
    } finally {
      try {
        execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'ignore' });
      } catch {
        /* already running */
      }
      await direct.service.shutdown();
      await db3.drop();
    }
  }, 60_000);
});
