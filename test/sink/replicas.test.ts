/**
 * Two sink replicas on one PostgreSQL database and one Redis key prefix (issue 13), for real:
 *  - the same requests posted to both at once (a collector retry that lands on the other replica)
 *    store every span once in Postgres and once in the Redis stream, and every webhook event is
 *    delivered once, by one of the two dispatchers;
 *  - a multi-chunk Redis batch cut short before its batch marker was set is replayed on the
 *    other replica without writing anything twice;
 *  - a dispatcher whose claim was taken over cannot put a delivered row back to pending;
 *  - retention run by both replicas at once drops each old partition once, without errors.
 */
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSinkConfig } from '../../src/sink/config.js';
import type { Batch } from '../../src/sink/destination.js';
import { normalizeTraces } from '../../src/sink/records.js';
import { SCRIPT_CHUNK_RECORDS, createRedisSink } from '../../src/sink/redis/sink.js';
import { migrate } from '../../src/sink/postgres/migrate.js';
import * as outbox from '../../src/sink/webhooks/outbox.js';
import { generateSecret } from '../../src/sink/webhooks/sign.js';
import { postJson, waitUntil } from './support/http.js';
import { type TestDatabase, createTestDatabase } from './support/pg.js';
import { buildSyntheticSession } from './support/session.js';
import { type TestSink, createRecordingLogger, newToken, startTestSink } from './support/sink.js';
import { type WebhookReceiver, startWebhookReceiver } from './support/webhook-receiver.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

describe('replicated sinks', () => {
  let db: TestDatabase;
  let receiver: WebhookReceiver;
  const redis = createClient({ url: REDIS_URL });
  const prefix = `claude-otel-test:replicas:${process.pid}:${Date.now()}`;
  const secret = generateSecret();
  const token = newToken();
  const replicas: TestSink[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('replicas');
    receiver = await startWebhookReceiver(secret);
    await redis.connect();
    const config = {
      postgres: { url: db.url },
      redis: { url: REDIS_URL },
      webhooks: {
        allowPrivateAddresses: ['127.0.0.1'],
        pollIntervalMs: 20,
        destinations: [{ name: 'ops', url: receiver.url, secret, events: ['tool_failure', 'session_end'] as ['tool_failure', 'session_end'] }],
      },
    };
    // Both start at once: migrations and partition creation race for real.
    replicas.push(...(await Promise.all([startTestSink(config, prefix, { token }), startTestSink(config, prefix, { token })])));
  });

  afterAll(async () => {
    for (const r of replicas) await r.service.shutdown();
    for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) if (keys.length) await redis.del(keys);
    await redis.close();
    await receiver?.close();
    await db?.drop();
  });

  const count = async (sql: string, params: unknown[] = []) => Number((await db.pool.query<{ n: string }>(sql, params)).rows[0]!.n);

  it('stores every span once and delivers every webhook once when both replicas get the same requests', async () => {
    const sessions = Array.from({ length: 40 }, () => buildSyntheticSession());
    const [a, b] = replicas as [TestSink, TestSink];
    // Every session to both replicas at the same moment, half of them first to a, half to b.
    const answers = await Promise.all(
      sessions.flatMap((s, i) => {
        const first = i % 2 ? a : b;
        const second = i % 2 ? b : a;
        return [postJson(`${first.url}/v1/traces`, s.traces, first.auth), postJson(`${second.url}/v1/traces`, s.traces, second.auth)];
      }),
    );
    expect(answers.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
    const spans = sessions.reduce((n, s) => n + s.spans.length, 0);
    expect(await count('SELECT count(*) AS n FROM spans')).toBe(spans);
    expect(await count('SELECT count(DISTINCT (trace_id, span_id)) AS n FROM spans')).toBe(spans);
    expect(await redis.xLen(`${prefix}:spans`)).toBe(spans);

    // Each synthetic session holds a failing tool and a root span: two events per session.
    const events = await count('SELECT count(*) AS n FROM webhook_outbox');
    expect(events).toBe(2 * sessions.length);
    await waitUntil(async () => (await count(`SELECT count(*) AS n FROM webhook_outbox WHERE state = 'delivered'`)) === events, 30_000, 'all delivered');
    // A moment for a stray second delivery to show up, if there were one.
    await new Promise((r) => setTimeout(r, 300));
    const ok = receiver.received.filter((w) => w.status === 200);
    expect(ok).toHaveLength(events);
    expect(new Set(ok.map((w) => w.id)).size).toBe(events);
    expect(ok.every((w) => w.signatureValid)).toBe(true);
    // No replica died: no attempt is in doubt, none left stamped.
    expect(await count('SELECT count(*) AS n FROM webhook_outbox WHERE in_doubt_attempts > 0 OR attempt_started_at IS NOT NULL')).toBe(0);
  });

  it('counts every stored span exactly once, across replicas and replays, the same on both replicas', async () => {
    const [a, b] = replicas as [TestSink, TestSink];
    const byKey = async (table: 'spans' | 'span_counts') =>
      (
        await db.pool.query<{ k: string; n: string }>(
          table === 'spans'
            ? `SELECT concat_ws('|', name, coalesce(kind, ''), status, coalesce(tool_name, '')) AS k, count(*) AS n FROM spans GROUP BY 1 ORDER BY 1`
            : `SELECT concat_ws('|', span_name, span_kind, status, tool_name) AS k, calls AS n FROM span_counts ORDER BY 1`,
        )
      ).rows.map((r) => `${r.k}=${r.n}`);
    // The requests of the test above, all of them again, to both replicas at once (a replay).
    const sessions = Array.from({ length: 10 }, () => buildSyntheticSession());
    for (let round = 0; round < 2; round++) {
      const answers = await Promise.all(sessions.flatMap((s) => [a, b].map((r) => postJson(`${r.url}/v1/traces`, s.traces, r.auth))));
      expect(answers.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
    }
    const stored = await count('SELECT count(*) AS n FROM spans');
    expect(await count('SELECT sum(calls) AS n FROM span_counts')).toBe(stored);
    expect(await byKey('span_counts')).toEqual(await byKey('spans'));
    expect((await byKey('span_counts')).some((k) => k.includes('|error|'))).toBe(true);

    // Each replica serves the database's totals (aggregate with max across replicas, not sum).
    const served = async (r: TestSink) => {
      const text = await (await fetch(`${r.url}/metrics`, { headers: r.auth })).text();
      const lines = text.split('\n').filter((l) => l.startsWith('claude_otel_stored_spans_total{'));
      return lines.reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    };
    expect(await served(a)).toBe(stored);
    expect(await served(b)).toBe(stored);
    const text = await (await fetch(`${a.url}/metrics`, { headers: a.auth })).text();
    expect(text).toMatch(/claude_otel_stored_spans_total\{[^}]*span_name="execute_tool [^"]+"[^}]*status_code="STATUS_CODE_ERROR"/);
  });

  it('replays a multi-chunk Redis batch cut short on the other replica without duplicates', async () => {
    const own = `${prefix}:chunks`;
    const log = createRecordingLogger();
    const make = () => createRedisSink(parseSinkConfig({ redis: { url: REDIS_URL } }).redis!, { log, keyPrefix: own });
    const one = make();
    const two = make();
    await one.start();
    await two.start();
    try {
      const records: Batch = { spans: [], logs: [] };
      while (records.spans.length <= 2 * SCRIPT_CHUNK_RECORDS) {
        records.spans.push(...normalizeTraces(buildSyntheticSession({ extraTools: 60 }).traces as never).records);
      }
      await waitUntil(async () => {
        try {
          await one.consume(records);
          return true;
        } catch {
          return false;
        }
      }, 10_000, 'redis ready');
      expect(await redis.xLen(`${own}:spans`)).toBe(records.spans.length);
      // The sink was "killed" after its chunks but before the batch marker: remove the marker.
      const markers = await redis.keys(`${own}:batch:*`);
      expect(markers).toHaveLength(1);
      await redis.del(markers);
      await waitUntil(async () => {
        try {
          await two.consume(records);
          return true;
        } catch {
          return false;
        }
      }, 10_000, 'second replica ready');
      expect(await redis.xLen(`${own}:spans`)).toBe(records.spans.length);
    } finally {
      await one.shutdown();
      await two.shutdown();
    }
  });

  it('does not let a dispatcher whose claim was taken over undo a delivery', async () => {
    // Its own database: the replicas' dispatchers above would claim the row first.
    const own = await createTestDatabase('fence');
    try {
      await migrate(own.pool);
      await outbox.enqueue(own.pool, [{ webhookId: 'msg_fence', destination: 'ops', eventType: 'tool_failure', body: '{}' }]);
      const [stale] = await outbox.claimDue(own.pool, 10, 1);
      expect(stale).toBeDefined();
      await new Promise((r) => setTimeout(r, 20)); // the 1 ms lease ends; another replica claims
      const [current] = await outbox.claimDue(own.pool, 10, 60_000);
      expect(current!.id).toBe(stale!.id);
      expect(current!.claim_token).not.toBe(stale!.claim_token);
      // The stale holder may not send any more (deliver() renews before each attempt)...
      expect(await outbox.renewClaim(own.pool, stale!, 60_000)).toBe(false);
      expect(await outbox.renewClaim(own.pool, current!, 60_000)).toBe(true);
      // ...nor record an outcome.
      expect(await outbox.markDelivered(own.pool, current!, 200)).toBe(true);
      expect(await outbox.markRetry(own.pool, stale!, 1_000, 500, 'late answer')).toBe(false);
      expect(await outbox.markDead(own.pool, stale!, 500, 'late answer')).toBe(false);
      expect(await outbox.markDelivered(own.pool, stale!, 200)).toBe(false);
      const row = (await own.pool.query(`SELECT state, attempts FROM webhook_outbox WHERE id = $1`, [current!.id])).rows[0];
      expect(row).toEqual({ state: 'delivered', attempts: 1 });
    } finally {
      await own.drop();
    }
  });

  it('puts on record a row whose attempt started and never recorded an outcome: claimed again, it is in doubt', async () => {
    const own = await createTestDatabase('doubt');
    try {
      await migrate(own.pool);
      const row = async (id: string) =>
        (await own.pool.query(`SELECT state, attempts, in_doubt_attempts, attempt_started_at IS NOT NULL AS started FROM webhook_outbox WHERE webhook_id = $1`, [id])).rows[0];
      const expire = () => new Promise((r) => setTimeout(r, 20));
      await outbox.enqueue(own.pool, ['msg_sent', 'msg_unsent', 'msg_retried'].map((webhookId) => ({ webhookId, destination: 'ops', eventType: 'tool_failure', body: '{}' })));
      // A replica claims all three with a 1 ms lease; it starts sending msg_sent and dies; it had
      // not got to msg_unsent; it recorded msg_retried's outcome (a 503).
      const first = await outbox.claimDue(own.pool, 10, 1);
      expect(first.map((r) => r.in_doubt)).toEqual([false, false, false]);
      const by = (rows: outbox.ClaimedRow[], id: string) => rows.find((r) => r.webhook_id === id)!;
      expect(await outbox.renewClaim(own.pool, by(first, 'msg_sent'), 1)).toBe(true);
      expect(await row('msg_sent')).toMatchObject({ started: true, in_doubt_attempts: 0 });
      expect(await outbox.renewClaim(own.pool, by(first, 'msg_retried'), 1)).toBe(true);
      expect(await outbox.markRetry(own.pool, by(first, 'msg_retried'), 0, 503, 'unavailable')).toBe(true);
      expect(await row('msg_retried')).toMatchObject({ started: false, attempts: 1 });
      await expire();
      // Another replica claims them when the lease ends: only the one whose attempt may have
      // reached the receiver is in doubt.
      const second = await outbox.claimDue(own.pool, 10, 60_000);
      expect(Object.fromEntries(second.map((r) => [r.webhook_id, r.in_doubt]))).toEqual({ msg_sent: true, msg_unsent: false, msg_retried: false });
      expect(by(second, 'msg_sent').in_doubt_attempts).toBe(1);
      expect(await row('msg_sent')).toMatchObject({ started: false, in_doubt_attempts: 1 });
      // Its re-send is recorded like any attempt; the count stays on the row.
      expect(await outbox.renewClaim(own.pool, by(second, 'msg_sent'), 60_000)).toBe(true);
      expect(await outbox.markDelivered(own.pool, by(second, 'msg_sent'), 200)).toBe(true);
      expect(await row('msg_sent')).toEqual({ state: 'delivered', attempts: 1, in_doubt_attempts: 1, started: false });
    } finally {
      await own.drop();
    }
  });

  it('runs retention on both replicas at once: each old partition dropped once, no errors', async () => {
    const past = ['2020-01-01', '2020-01-02', '2020-01-03'];
    for (const d of past) await db.pool.query(`SELECT claude_otel_ensure_partition('spans', $1::date)`, [d]);
    const before = await count(`SELECT count(*) AS n FROM pg_class WHERE relname ~ '^spans_p2020' AND relkind = 'r'`);
    expect(before).toBe(past.length);
    const results = await Promise.all(replicas.map((r) => r.service.postgres!.maintain()));
    const dropped = results.reduce((n, r) => n + r.dropped, 0);
    expect(await count(`SELECT count(*) AS n FROM pg_class WHERE relname ~ '^spans_p2020' AND relkind = 'r'`)).toBe(0);
    // Two rounds at once: one replica drops, the other skips (lock taken) or finds nothing left.
    expect(dropped).toBe(past.length);
    // Retention did not touch the current partitions: the spans written above are all there.
    expect(await count('SELECT count(*) AS n FROM spans')).toBeGreaterThan(0);
  });
});
