/**
 * Property test: random and mutated OTLP/JSON bodies, built from the realistic synthetic session
 * (src/sink/synthetic.ts), through the real sink HTTP server with the real PostgreSQL and Redis.
 * Whatever the body: no 5xx, no unexpected error logged, and every record is either written (the
 * rows and stream entries are there) or counted as rejected — the database, the Redis stream,
 * the response's partialSuccess and the sink's own counters all agree. Memory stays bounded.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, createTestDatabase } from '../sink/support/pg.js';
import { buildSyntheticSession } from '../sink/support/session.js';
import { type TestSink, startTestSink, waitForStores } from '../sink/support/sink.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const SPAN_FIELDS = ['traceId', 'spanId', 'parentSpanId', 'name', 'kind', 'startTimeUnixNano', 'endTimeUnixNano', 'status', 'attributes', 'events'];
const ATTR_KEYS = ['session.id', 'gen_ai.tool.name', 'error.type', 'claude_code.span.kind', 'claude_code.prompt.id', 'x'];

type Json = Record<string, unknown>;
const nest = (depth: number): Json => (depth <= 0 ? { stringValue: 'leaf' } : { arrayValue: { values: [nest(depth - 1)] } });

const mutationArb = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), field: fc.constantFrom(...SPAN_FIELDS), value: fc.jsonValue({ maxDepth: 3 }) }),
  fc.record({ kind: fc.constant('delete' as const), field: fc.constantFrom(...SPAN_FIELDS) }),
  fc.record({ kind: fc.constant('longAttr' as const), key: fc.constantFrom(...ATTR_KEYS), len: fc.constantFrom(1, 255, 257, 5_000, 1_100_000) }),
  fc.record({ kind: fc.constant('deep' as const), depth: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ kind: fc.constant('time' as const), field: fc.constantFrom('startTimeUnixNano', 'endTimeUnixNano'), ns: fc.bigInt({ min: 0n, max: 10n ** 20n - 1n }) }),
  fc.record({ kind: fc.constant('manyAttrs' as const), n: fc.integer({ min: 250, max: 300 }) }),
  fc.record({ kind: fc.constant('hexId' as const), field: fc.constantFrom('traceId', 'spanId', 'parentSpanId'), len: fc.constantFrom(15, 16, 31, 32, 33) }),
  fc.record({ kind: fc.constant('attrValue' as const), key: fc.constantFrom(...ATTR_KEYS), value: fc.jsonValue({ maxDepth: 4 }) }),
);

/** `arb` about once in `every` runs, else null. */
const sometimes = <T,>(arb: fc.Arbitrary<T>, every: number) =>
  fc.oneof({ weight: every - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });

const bodyArb = fc.record({
  take: fc.integer({ min: 0, max: 26 }),
  mutations: fc.array(fc.record({ index: fc.nat(), m: mutationArb }), { maxLength: 5 }),
  /** Replace the envelope itself (resourceSpans, the resource, the scope) with random JSON. */
  envelope: sometimes(fc.record({ where: fc.constantFrom('resourceSpans', 'resource', 'scope', 'spans'), value: fc.jsonValue({ maxDepth: 3 }) }), 6),
  /** Break the serialized bytes. */
  corrupt: sometimes(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), truncate: fc.boolean() }), 6),
  gzip: fc.boolean(),
});

function hexOf(len: number, seed: number): string {
  return Array.from({ length: len }, (_, i) => ((seed * 7 + i * 13) % 16).toString(16)).join('');
}

type BodyInput = typeof bodyArb extends fc.Arbitrary<infer T> ? T : never;

function build(input: BodyInput, seed: number): { body: Buffer; spans: number; pristine: boolean } {
  const session = buildSyntheticSession();
  const spans = (JSON.parse(JSON.stringify(session.spans)) as Json[]).slice(0, input.take);
  for (const { index, m } of input.mutations) {
    if (!spans.length) break;
    const span = spans[index % spans.length]!;
    const attrs = Array.isArray(span.attributes) ? (span.attributes as Json[]) : (span.attributes = []) as Json[];
    switch (m.kind) {
      case 'set': span[m.field] = m.value; break;
      case 'delete': delete span[m.field]; break;
      case 'longAttr': attrs.push({ key: m.key, value: { stringValue: 'é'.repeat(Math.ceil(m.len / 2)) } }); break;
      case 'deep': attrs.push({ key: 'deep', value: nest(m.depth) }); break;
      case 'time': span[m.field] = m.ns.toString(); break;
      case 'manyAttrs': for (let i = 0; i < m.n; i++) attrs.push({ key: `k${i}`, value: { intValue: String(i) } }); break;
      case 'hexId': span[m.field] = hexOf(m.len, seed + index); break;
      case 'attrValue': attrs.push({ key: m.key, value: m.value }); break;
    }
  }
  const doc: Json = {
    resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }] }, scopeSpans: [{ scope: { name: 'fuzz' }, spans }] }],
  };
  if (input.envelope) {
    const rs = (doc.resourceSpans as Json[])[0]!;
    if (input.envelope.where === 'resourceSpans') doc.resourceSpans = input.envelope.value;
    else if (input.envelope.where === 'resource') rs.resource = input.envelope.value;
    else if (input.envelope.where === 'scope') (rs.scopeSpans as Json[])[0]!.scope = input.envelope.value;
    else (rs.scopeSpans as Json[])[0]!.spans = input.envelope.value;
  }
  let body = Buffer.from(JSON.stringify(doc));
  if (input.corrupt && body.length) {
    const at = input.corrupt.at % body.length;
    body = input.corrupt.truncate ? body.subarray(0, at) : Buffer.from(body);
    if (!input.corrupt.truncate) body[at] = input.corrupt.byte;
  }
  return { body, spans: spans.length, pristine: !input.mutations.length && !input.envelope && !input.corrupt };
}

/** Sum of every series of a counter in the Prometheus text. */
function counter(text: string, name: string, filter = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (filter && !line.includes(filter)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('sink OTLP/JSON property test', () => {
  let db: TestDatabase;
  let sink: TestSink;
  const redis = createClient({ url: REDIS_URL });

  beforeAll(async () => {
    db = await createTestDatabase('fuzz');
    await redis.connect();
    sink = await startTestSink({ postgres: { url: db.url }, redis: { url: REDIS_URL }, writeTimeoutMs: 30_000 });
    await waitForStores(sink);
  });
  afterAll(async () => {
    await sink?.service.shutdown();
    for (const key of await redis.keys(`${sink.prefix}:*`)) await redis.del(key);
    await redis.close();
    await db?.drop();
  });

  const snapshot = async () => {
    const text = await (await fetch(`${sink.url}/metrics`)).text();
    return {
      rows: (await db.pool.query('SELECT count(*)::int AS n FROM spans')).rows[0].n as number,
      stream: await redis.xLen(`${sink.prefix}:spans`),
      received: counter(text, 'claude_otel_sink_received_total', 'signal="traces"'),
      rejected: counter(text, 'claude_otel_sink_records_rejected_total', 'signal="traces"'),
      written: counter(text, 'claude_otel_sink_written_total', 'destination="postgres"'),
    };
  };

  it('answers every body without a 5xx and accounts for every record', async () => {
    const rss0 = process.memoryUsage().rss;
    let seed = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(bodyArb, async (input) => {
        const { body, spans, pristine } = build(input, seed++);
        const before = await snapshot();
        const res = await fetch(`${sink.url}/v1/traces`, {
          method: 'POST',
          headers: { ...sink.auth, 'content-type': 'application/json', ...(input.gzip ? { 'content-encoding': 'gzip' } : {}) },
          body: new Uint8Array(input.gzip ? gzipSync(body) : body),
        });
        const answer = (await res.json()) as { partialSuccess?: { rejectedSpans?: string }; message?: string };
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const after = await snapshot();
        expect([200, 400, 413], JSON.stringify(answer).slice(0, 300)).toContain(res.status);
        const accepted = after.received - before.received - (after.rejected - before.rejected);
        // The stores hold exactly what the sink says it accepted.
        expect(after.rows - before.rows).toBe(accepted);
        expect(after.stream - before.stream).toBe(accepted);
        expect(after.written - before.written).toBe(accepted);
        if (res.status === 200) {
          expect(after.rejected - before.rejected).toBe(Number(answer.partialSuccess?.rejectedSpans ?? 0));
        } else {
          expect(accepted).toBe(0);
        }
        // A body whose envelope and bytes are intact: every span was seen, written or counted.
        if (!input.envelope && !input.corrupt && res.status !== 413 && !/nested deeper/.test(answer.message ?? '')) {
          expect(after.received - before.received).toBe(spans);
        }
        if (pristine) expect(accepted).toBe(spans);
      }),
      { numRuns: 80, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31), endOnFailure: true },
    );
    if (process.env.FUZZ_REPORT) console.log('statuses', Object.fromEntries(statuses), 'rss growth MB', (process.memoryUsage().rss - rss0) / 2 ** 20);
    expect(sink.log.lines.filter((l) => l.level === 'error')).toEqual([]);
    expect((await fetch(`${sink.url}/healthz`)).status).toBe(200);
    // Bounded memory: the whole run (bodies up to a few MB) does not grow the process by much.
    expect(process.memoryUsage().rss - rss0).toBeLessThan(400 * 1024 * 1024);
    // The generator reaches all three answers (a run that only ever got 400 would prove little).
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([200, 400]));
  }, 300_000);
});
