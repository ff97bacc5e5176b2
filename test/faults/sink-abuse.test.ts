/**
 * Finding 6 of ../shared/reviews/reliability-2026-12.md, one test per row, against the real sink
 * HTTP server with the real PostgreSQL and Redis of this machine (own database, own key prefix).
 * Each test sends the attack of the review and asserts the promise: unauthenticated spans trigger
 * nothing, one request cannot create partitions outside the time window or thousands of Redis
 * keys, one bad field drops one record (partialSuccess), deep nesting is a permanent 400, and a
 * gzip bomb is stopped after about the size limit of decoded output.
 */
import { brotliCompressSync, deflateSync, gzipSync, constants as zlibConstants } from 'node:zlib';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../src/sink/webhooks/sign.js';
import { postJson, waitUntil } from '../sink/support/http.js';
import { type TestDatabase, createTestDatabase } from '../sink/support/pg.js';
import { buildSyntheticSession, randomSessionId, resourceSpans, type SyntheticSpan } from '../sink/support/session.js';
import { type TestSink, startTestSink, waitForStores } from '../sink/support/sink.js';
import { type WebhookReceiver, startWebhookReceiver } from '../sink/support/webhook-receiver.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const DAY = 86_400_000;
const ns = (ms: number) => `${BigInt(Math.round(ms)) * 1_000_000n}`;
const attr = (key: string, stringValue: string) => ({ key, value: { stringValue } });

/** A tool span of a fresh trace starting at `startMs`. */
function toolSpan(i: number, startMs: number, extra: Array<{ key: string; value: unknown }> = [], sessionId = 'sess-fixed'): SyntheticSpan {
  const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');
  return {
    traceId: `${'ab'.repeat(12)}${hex(i + 1, 8)}`,
    spanId: `${'cd'.repeat(4)}${hex(i + 1, 8)}`,
    name: 'execute_tool Bash',
    kind: 1,
    startTimeUnixNano: ns(startMs),
    endTimeUnixNano: ns(startMs + 100),
    attributes: [attr('session.id', sessionId), attr('claude_code.span.kind', 'tool'), attr('gen_ai.tool.name', 'Bash'), ...(extra as SyntheticSpan['attributes'])],
  };
}

/** A sink whose stores are ready, with a write deadline generous enough for a loaded machine. */
async function start(config: Parameters<typeof startTestSink>[0]): Promise<TestSink> {
  const sink = await startTestSink({ writeTimeoutMs: 30_000, ...config });
  await waitForStores(sink);
  return sink;
}

const metric = async (sink: TestSink, re: RegExp): Promise<number> => {
  const text = await (await fetch(`${sink.url}/metrics`)).text();
  return Number(re.exec(text)?.[1] ?? 0);
};

describe('finding 6: the sink is authenticated and bounded', () => {
  let db: TestDatabase;
  let sink: TestSink | undefined;
  const redis = createClient({ url: REDIS_URL });
  const count = async (table = 'spans') => (await db.pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number;

  beforeAll(async () => {
    db = await createTestDatabase('faults6');
    await redis.connect();
  });
  afterEach(async () => {
    const prefix = sink?.prefix;
    await sink?.service.shutdown();
    sink = undefined;
    if (prefix) for (const key of await redis.keys(`${prefix}:*`)) await redis.del(key);
    await db.pool.query('TRUNCATE spans, log_records').catch(() => {});
  });
  afterAll(async () => {
    await redis.close();
    await db?.drop();
  });

  describe('a forged span without the token', () => {
    let receiver: WebhookReceiver;
    const secret = generateSecret();
    beforeAll(async () => {
      receiver = await startWebhookReceiver(secret);
    });
    afterAll(async () => receiver?.close());

    it('gets 401, is not stored and triggers no webhook; the same span with the token does', async () => {
      sink = await start({
        postgres: { url: db.url },
        webhooks: {
          allowPrivateAddresses: ['127.0.0.1'],
          pollIntervalMs: 50,
          destinations: [{ name: 'ops', url: receiver.url, secret, events: ['tool_failure'] }],
        },
      });
      const forged = toolSpan(1, Date.now() - 60_000);
      forged.status = { code: 2, message: 'forged failure: click http://evil.example' };
      const body = resourceSpans([forged]);
      const none = await postJson(`${sink.url}/v1/traces`, body);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      expect((await postJson(`${sink.url}/v1/traces`, body, { authorization: `Bearer ${sink.token}x` })).status).toBe(401);
      expect((await postJson(`${sink.url}/v1/traces`, body, { authorization: sink.token })).status).toBe(401);
      expect(await count()).toBe(0);
      expect((await db.pool.query('SELECT count(*)::int AS n FROM webhook_outbox')).rows[0].n).toBe(0);

      // The authenticated path still works, and its webhook is the only one delivered.
      const real = toolSpan(2, Date.now() - 30_000);
      real.status = { code: 2, message: 'real failure' };
      expect((await postJson(`${sink.url}/v1/traces`, resourceSpans([real]), sink.auth)).status).toBe(200);
      const got = await receiver.waitFor((r) => r.length >= 1);
      expect(got.map((w) => (w.body.data as Record<string, unknown>).status_message)).toEqual(['real failure']);
      expect(await count()).toBe(1);
      expect(await metric(sink, /claude_otel_sink_requests_rejected_total\{reason="unauthorized"[^}]*\} (\d+)/)).toBe(3);
    });
  });

  it('40 start days from 1971 to 3921 plus the year 5138 create no partition outside the window, and are counted', async () => {
    sink = await start({ postgres: { url: db.url } });
    const now = Date.now();
    const spans = [
      ...Array.from({ length: 40 }, (_, i) => toolSpan(i, Date.UTC(1971 + i * 50, 0, 2))),
      toolSpan(40, Date.UTC(5138, 10, 16)),
      ...Array.from({ length: 5 }, (_, i) => toolSpan(100 + i, now - i * DAY)),
    ];
    const res = await postJson(`${sink.url}/v1/traces`, resourceSpans(spans), sink.auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ partialSuccess: { rejectedSpans: '41' } });
    expect(String((res.body.partialSuccess as Record<string, unknown>).errorMessage)).toMatch(/outside the accepted window/);
    expect(await count()).toBe(5);
    const parts = (await db.pool.query<{ relname: string }>(
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'spans'`,
    )).rows.map((r) => r.relname);
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
    // The window: 7 days back, 1 ahead; maintenance adds partitionsAhead (2) days.
    const allowed = new Set(Array.from({ length: 10 }, (_, i) => `spans_p${day(now + (i - 7) * DAY)}`));
    expect(parts.filter((p) => !allowed.has(p))).toEqual([]);
    expect(parts.length).toBeLessThanOrEqual(10);
    expect(await metric(sink, /claude_otel_sink_records_rejected_total\{signal="traces",reason="time_out_of_window"[^}]*\} (\d+)/)).toBe(41);
  });

  it('2000 distinct session.id in one request make at most maxSessionStreamsPerBatch session streams; the rest are counted', async () => {
    sink = await start({ postgres: { url: db.url }, redis: { url: REDIS_URL } });
    const now = Date.now() - 60_000;
    const spans = Array.from({ length: 2000 }, (_, i) => toolSpan(i, now + i, [], `s-${i}-${randomSessionId()}`));
    const res = await postJson(`${sink.url}/v1/traces`, resourceSpans(spans), sink.auth);
    expect(res).toMatchObject({ status: 200, body: {} });
    const keys = await redis.keys(`${sink.prefix}:session:*`);
    expect(keys.length).toBe(256);
    expect(await redis.xLen(`${sink.prefix}:spans`)).toBe(2000); // every span is in the global stream
    expect(await count()).toBe(2000); // and in Postgres
    expect(await metric(sink, /claude_otel_sink_records_skipped_total\{destination="redis",reason="session_stream_limit"[^}]*\} (\d+)/)).toBe(1744);
  });

  it('a 1 MB session.id and a 5000-character tool name among 10 good spans: the 10 are written, 2 rejected (partialSuccess)', async () => {
    sink = await start({ postgres: { url: db.url }, redis: { url: REDIS_URL } });
    const t = Date.now() - 60_000;
    const good = Array.from({ length: 10 }, (_, i) => toolSpan(i, t + i));
    const bigSession = toolSpan(20, t);
    bigSession.attributes[0] = attr('session.id', 'x'.repeat(1_000_000));
    const bigTool = toolSpan(21, t);
    bigTool.attributes[2] = attr('gen_ai.tool.name', 'y'.repeat(5_000));
    const res = await postJson(`${sink.url}/v1/traces`, resourceSpans([...good.slice(0, 5), bigSession, ...good.slice(5), bigTool]), sink.auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ partialSuccess: { rejectedSpans: '2' } });
    const message = String((res.body.partialSuccess as Record<string, unknown>).errorMessage);
    expect(message).toMatch(/session\.id .* over 256 bytes/);
    expect(message.length).toBeLessThan(1_000); // the value is not echoed back
    expect(await count()).toBe(10);
    expect(await redis.xLen(`${sink.prefix}:spans`)).toBe(10);
    expect(await metric(sink, /claude_otel_sink_records_rejected_total\{signal="traces",reason="column_too_long"[^}]*\} (\d+)/)).toBe(2);
  });

  it.each([1500, 3000, 20000])('an attribute nested %i levels answers 400 (permanent, not retried), every time', async (depth) => {
    sink ??= await start({ postgres: { url: db.url } });
    const span = JSON.stringify(toolSpan(1, Date.now() - 1000)).replace(
      /"attributes":\[/,
      `"attributes":[{"key":"deep","value":${'{"arrayValue":{"values":['.repeat(depth)}{"stringValue":"x"}${']}}'.repeat(depth)}},`,
    );
    const body = `{"resourceSpans":[{"scopeSpans":[{"spans":[${span}]}]}]}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await postJson(`${sink.url}/v1/traces`, body, sink.auth);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 3, message: expect.stringMatching(/nested deeper than 64 levels/) });
    }
    expect(sink.log.lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(await count()).toBe(0);
  });

  it('nesting within the JSON limit but deeper than maxValueDepth drops only that span', async () => {
    sink = await start({ postgres: { url: db.url } });
    const deep = (n: number): unknown => (n === 0 ? { stringValue: 'x' } : { arrayValue: { values: [deep(n - 1)] } });
    const t = Date.now() - 1000;
    const res = await postJson(`${sink.url}/v1/traces`, resourceSpans([toolSpan(1, t), toolSpan(2, t, [{ key: 'deep', value: deep(12) }]), toolSpan(3, t)]), sink.auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ partialSuccess: { rejectedSpans: '1', errorMessage: expect.stringMatching(/nested deeper than 8/) } });
    expect(await count()).toBe(2);
  });

  it('a 1 GiB gzip bomb (1 MB on the wire) answers 413 after inflating about the limit, not the whole body', async () => {
    sink = await start({ postgres: { url: db.url } });
    const limit = 16 * 1024 * 1024; // maxBodyBytes default
    // 64 gzip members of 16 MiB of zeros each: 1 GiB decoded (gunzip reads concatenated members).
    const member = gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 64 }, () => member));
    expect(bomb.length).toBeLessThan(1_100_000);
    const res = await fetch(`${sink.url}/v1/traces`, {
      method: 'POST',
      headers: { ...sink.auth, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: bomb,
    });
    expect(res.status).toBe(413);
    const { message } = (await res.json()) as { message: string };
    const m = /stopped after (\d+) decoded bytes, (\d+) compressed bytes inflated/.exec(message);
    expect(m, message).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(limit);
    expect(Number(m![1])).toBeLessThanOrEqual(limit + 64 * 1024); // at most one more inflate chunk
    expect(Number(m![2])).toBeLessThan(bomb.length / 10); // most of the body was never inflated
    // The sink is fine afterwards.
    expect((await postJson(`${sink.url}/v1/traces`, buildSyntheticSession().traces, sink.auth)).status).toBe(200);
    await waitUntil(async () => (await count()) > 0);
  });

  it.each([
    ['deflate', () => deflateSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 })],
    ['br', () => brotliCompressSync(Buffer.alloc(64 * 1024 * 1024), { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 5 } })],
  ])('a %s bomb (64 MiB decoded) is stopped the same way', async (encoding, make) => {
    sink = await start({ postgres: { url: db.url } });
    const bomb = make();
    const res = await fetch(`${sink.url}/v1/logs`, {
      method: 'POST',
      headers: { ...sink.auth, 'content-type': 'application/json', 'content-encoding': encoding },
      body: bomb,
    });
    expect(res.status).toBe(413);
    const { message } = (await res.json()) as { message: string };
    const m = /stopped after (\d+) decoded bytes, (\d+) compressed bytes inflated/.exec(message);
    expect(m, message).not.toBeNull();
    // Decoding stopped at the limit (the input is tiny for br: what matters is the output).
    expect(Number(m![1])).toBeLessThanOrEqual(16 * 1024 * 1024 + 64 * 1024);
    expect(Number(m![2])).toBeLessThanOrEqual(bomb.length);
  });

  it('log records are validated one by one too: a 1 MB session.id among good records → partialSuccess rejectedLogRecords', async () => {
    sink = await start({ postgres: { url: db.url } });
    const s = buildSyntheticSession();
    const logs = JSON.parse(JSON.stringify(s.logs));
    const good = logs.resourceLogs[0].scopeLogs[0].logRecords[0];
    const bad = { ...good, attributes: [{ key: 'session.id', value: { stringValue: 'z'.repeat(1_000_000) } }] };
    logs.resourceLogs[0].scopeLogs[0].logRecords.push(bad);
    const res = await postJson(`${sink.url}/v1/logs`, logs, sink.auth);
    expect(res).toMatchObject({ status: 200, body: { partialSuccess: { rejectedLogRecords: '1' } } });
    expect(await count('log_records')).toBe(2); // and the readiness probe's
  });
});
