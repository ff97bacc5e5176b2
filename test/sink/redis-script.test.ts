import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSinkConfig } from '../../src/sink/config.js';
import type { Batch, Destination } from '../../src/sink/destination.js';
import { type LogRecordRow, type SpanRecord, normalizeLogs, normalizeTraces } from '../../src/sink/records.js';
import { SCRIPT_CHUNK_RECORDS, createRedisSink, logFields, spanFields } from '../../src/sink/redis/sink.js';
import { waitUntil } from './support/http.js';
import { buildSyntheticSession } from './support/session.js';
import { type RecordingLogger, createRecordingLogger } from './support/sink.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const FALLBACK_WARNING = 'redis refuses scripts; writing batches as a pipeline of XADDs instead';

/** Two interleaved sessions, a span without a session, and logs: more records than one script call takes. */
function buildBatch(): Batch {
  const a = buildSyntheticSession({ extraTools: 400 });
  const b = buildSyntheticSession({ extraTools: 300 });
  const sa = normalizeTraces(a.traces as never).records;
  const sb = normalizeTraces(b.traces as never).records;
  const spans: SpanRecord[] = [];
  for (let i = 0; i < Math.max(sa.length, sb.length); i++) {
    if (sa[i]) spans.push(sa[i]!);
    if (sb[i]) spans.push(sb[i]!);
  }
  spans[7] = { ...spans[7]!, sessionId: null };
  const logs: LogRecordRow[] = [...normalizeLogs(a.logs as never).records, ...normalizeLogs(b.logs as never).records];
  return { spans, logs };
}

/** Field/value lists of every entry of a stream, in entry order, without the ids. */
async function entries(redis: ReturnType<typeof createClient>, key: string): Promise<string[][]> {
  const raw = (await redis.sendCommand(['XRANGE', key, '-', '+'])) as Array<[string, string[]]>;
  return raw.map(([, fields]) => fields.map(String));
}

describe('Redis sink: EVALSHA write script vs the pipeline fallback', () => {
  const redis = createClient({ url: REDIS_URL });
  const run = `claude-otel-test:script:${process.pid}:${Date.now()}`;
  const noScriptUser = `claude-otel-test-noscript-${process.pid}`;
  const noEvalUser = `claude-otel-test-noevalsha-${process.pid}`;
  const batch = buildBatch();
  const sessions = [...new Set([...batch.spans, ...batch.logs].map((r) => r.sessionId).filter((s): s is string => !!s))];
  const sinks: Destination[] = [];

  async function startSink(name: string, url = REDIS_URL): Promise<{ sink: Destination; log: RecordingLogger; prefix: string }> {
    const log = createRecordingLogger();
    const prefix = `${run}:${name}`;
    const sink = createRedisSink(parseSinkConfig({ redis: { url } }).redis!, { log, keyPrefix: prefix });
    sinks.push(sink);
    await sink.start();
    // consume() of an empty batch answers 'redis not connected' until the client is ready.
    await waitUntil(async () => sink.consume({ spans: [], logs: [] }).then(() => true, () => false), 10_000, `${name} connected`);
    return { sink, log, prefix };
  }

  const evalshaCalls = async () => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);

  beforeAll(async () => {
    await redis.connect();
    // Users that may do everything but run scripts (SCRIPT LOAD refused), or only not EVALSHA.
    await redis.sendCommand(['ACL', 'SETUSER', noScriptUser, 'reset', 'on', '>pw', '~*', '&*', '+@all', '-@scripting']);
    await redis.sendCommand(['ACL', 'SETUSER', noEvalUser, 'reset', 'on', '>pw', '~*', '&*', '+@all', '-evalsha', '-evalsha_ro']);
  });
  afterAll(async () => {
    for (const s of sinks) await s.shutdown();
    for await (const keys of redis.scanIterator({ MATCH: `${run}:*`, COUNT: 1000 })) if (keys.length) await redis.del(keys);
    await redis.sendCommand(['ACL', 'DELUSER', noScriptUser, noEvalUser]);
    await redis.close();
  });

  it('writes entries identical to the pipeline path (fields, order, keys, TTL, marker) and skips replays', async () => {
    expect(batch.spans.length + batch.logs.length).toBeGreaterThan(2 * SCRIPT_CHUNK_RECORDS);
    const script = await startSink('script');
    const before = await evalshaCalls();
    await script.sink.consume(batch);
    // 3 chunks of at most 250 records (other test files may run scripts meanwhile: at least 3).
    expect((await evalshaCalls()) - before).toBeGreaterThanOrEqual(Math.ceil((batch.spans.length + batch.logs.length) / SCRIPT_CHUNK_RECORDS));
    expect(script.log.lines.some((l) => l.msg === FALLBACK_WARNING)).toBe(false);

    const fallback = await startSink('fallback', `redis://${noScriptUser}:pw@127.0.0.1:6379`);
    await fallback.sink.consume(batch);
    expect(fallback.log.lines.filter((l) => l.msg === FALLBACK_WARNING)).toHaveLength(1);

    const keys = (p: string) => [`${p}:spans`, `${p}:logs`, ...sessions.map((s) => `${p}:session:${s}`)];
    const viaScript = await Promise.all(keys(script.prefix).map((k) => entries(redis, k)));
    const viaPipeline = await Promise.all(keys(fallback.prefix).map((k) => entries(redis, k)));
    expect(viaScript).toEqual(viaPipeline);
    // …and both are the documented layout, in batch order.
    const flat = (f: Record<string, string>) => Object.entries(f).flat();
    expect(viaScript[0]).toEqual(batch.spans.map((s) => flat(spanFields(s))));
    expect(viaScript[1]).toEqual(batch.logs.map((l) => flat(logFields(l))));
    expect(viaScript[2]).toEqual(
      [...batch.spans.filter((s) => s.sessionId === sessions[0]).map((s) => flat(spanFields(s))), ...batch.logs.filter((l) => l.sessionId === sessions[0]).map((l) => flat(logFields(l)))],
    );
    for (const p of [script.prefix, fallback.prefix]) {
      for (const s of sessions) {
        const ttl = await redis.ttl(`${p}:session:${s}`);
        expect(ttl).toBeGreaterThan(86_000);
      }
      const markers = await redis.keys(`${p}:batch:*`);
      expect(markers).toHaveLength(1);
      expect(await redis.ttl(markers[0]!)).toBeGreaterThan(3_500);
    }

    // Replays of the whole batch write nothing on either path.
    await script.sink.consume(batch);
    await fallback.sink.consume(batch);
    expect(await redis.xLen(`${script.prefix}:spans`)).toBe(batch.spans.length);
    expect(await redis.xLen(`${fallback.prefix}:spans`)).toBe(batch.spans.length);
    expect(await redis.xLen(`${script.prefix}:session:${sessions[1]}`)).toBe(viaScript[3]!.length);
    // The warning is logged once, not per batch.
    await fallback.sink.consume({ spans: batch.spans.slice(0, 3), logs: [] });
    expect(fallback.log.lines.filter((l) => l.msg === FALLBACK_WARNING)).toHaveLength(1);
  });

  it('falls back to the pipeline when SCRIPT LOAD works but EVALSHA is refused', async () => {
    const s = await startSink('noevalsha', `redis://${noEvalUser}:pw@127.0.0.1:6379`);
    await s.sink.consume(batch);
    await s.sink.consume(batch);
    expect(s.log.lines.filter((l) => l.msg === FALLBACK_WARNING)).toHaveLength(1);
    expect(await redis.xLen(`${s.prefix}:spans`)).toBe(batch.spans.length);
    expect(await redis.xLen(`${s.prefix}:logs`)).toBe(batch.logs.length);
    expect(await entries(redis, `${s.prefix}:spans`)).toEqual(await entries(redis, `${run}:script:spans`));
  });

  it('reloads the script after SCRIPT FLUSH (NOSCRIPT) and writes the batch once', async () => {
    const s = await startSink('noscript');
    const small: Batch = { spans: batch.spans.slice(0, 20), logs: [] };
    await s.sink.consume(small);
    await redis.sendCommand(['SCRIPT', 'FLUSH']);
    const big: Batch = { spans: batch.spans.slice(20), logs: batch.logs };
    await s.sink.consume(big);
    await s.sink.consume(big);
    expect(await entries(redis, `${s.prefix}:spans`)).toEqual(batch.spans.map((r) => Object.entries(spanFields(r)).flat()));
    expect(s.log.lines.some((l) => l.msg === FALLBACK_WARNING)).toBe(false);
  });
});
