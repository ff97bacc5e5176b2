import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSinkConfig } from '../../src/sink/config.js';
import { createSinkService } from '../../src/sink/service.js';
import { postJson } from './support/http.js';
import { type TestDatabase, createTestDatabase } from './support/pg.js';
import { buildSyntheticSession } from './support/session.js';
import { type TestSink, createRecordingLogger, startTestSink } from './support/sink.js';

describe('sink HTTP receiver', () => {
  let db: TestDatabase;
  let sink: TestSink;
  beforeAll(async () => {
    db = await createTestDatabase('server');
    sink = await startTestSink({ postgres: { url: db.url }, maxBodyBytes: 200_000 });
  });
  afterAll(async () => {
    await sink?.service.shutdown();
    await db?.drop();
  });
  const rows = async () => (await db.pool.query('SELECT (SELECT count(*) FROM spans)::int + (SELECT count(*) FROM log_records)::int AS n')).rows[0].n;

  it.each([
    ['not JSON', '{"resourceSpans": ['],
    ['wrong shape', { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 1 }] }] }] }],
    ['resourceSpans not an array', { resourceSpans: 'x' }],
    ['bad time', { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), name: 'x', startTimeUnixNano: 'soon' }] }] }] }],
    ['only invalid ids', { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'xyz', spanId: 'b'.repeat(16), name: 'x', startTimeUnixNano: '1' }] }] }] }],
  ])('answers 400 to malformed traces (%s) and writes nothing', async (_label, body) => {
    const res = await postJson(`${sink.url}/v1/traces`, body, sink.auth);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 3 });
    expect(await rows()).toBe(0);
  });

  it('answers 400 to malformed logs', async () => {
    expect((await postJson(`${sink.url}/v1/logs`, { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: 5 }] }] }] }, sink.auth)).status).toBe(400);
    expect(await rows()).toBe(0);
  });

  it('answers 415 to protobuf and unknown content types', async () => {
    const pb = await postJson(`${sink.url}/v1/traces`, 'xx', { ...sink.auth, 'content-type': 'application/x-protobuf' });
    expect(pb.status).toBe(415);
    expect(String(pb.body.message)).toMatch(/encoding: json/);
    expect((await postJson(`${sink.url}/v1/traces`, 'x', { ...sink.auth, 'content-type': 'text/plain' })).status).toBe(415);
  });

  it('answers 413 to an oversized body and 404/405 elsewhere', async () => {
    expect((await postJson(`${sink.url}/v1/traces`, buildSyntheticSession({ extraTools: 500 }).traces, sink.auth)).status).toBe(413);
    expect((await postJson(`${sink.url}/v1/metrics`, {}, sink.auth)).status).toBe(404);
    expect((await fetch(`${sink.url}/v1/traces`)).status).toBe(405);
  });

  it('accepts gzip bodies (the collector compresses by default)', async () => {
    const s = buildSyntheticSession();
    const res = await fetch(`${sink.url}/v1/traces`, {
      method: 'POST',
      headers: { ...sink.auth, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify(s.traces)),
    });
    expect(res.status).toBe(200);
    expect(await rows()).toBe(s.spans.length);
  });

  it('reports partial success when some spans are invalid', async () => {
    const s = buildSyntheticSession();
    s.spans[0]!.traceId = 'not-hex';
    const res = await postJson(`${sink.url}/v1/traces`, s.traces, sink.auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ partialSuccess: { rejectedSpans: '1' } });
  });

  it('accepts an empty request', async () => {
    expect((await postJson(`${sink.url}/v1/traces`, {}, sink.auth)).status).toBe(200);
  });
});

describe('sink lifecycle', () => {
  const config = parseSinkConfig({ listen: { port: 0 }, redis: { url: 'redis://127.0.0.1:6379' } });

  it('shuts down without start, twice', async () => {
    const s = createSinkService(config, { log: createRecordingLogger() });
    await s.shutdown();
    await s.shutdown();
  });

  it('starts and shuts down twice; refuses a second start', async () => {
    const s = createSinkService(config, { log: createRecordingLogger() });
    await s.start();
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    await expect(s.start()).rejects.toThrow(/cannot start/);
    await Promise.all([s.shutdown(), s.shutdown()]);
    await s.shutdown();
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
  });

  it('fails start with a readable error when the port is taken, and cleans up', async () => {
    const a = createSinkService(config, { log: createRecordingLogger() });
    await a.start();
    const port = Number(new URL(a.url).port);
    const b = createSinkService(parseSinkConfig({ listen: { port }, redis: { url: 'redis://127.0.0.1:6379' } }), { log: createRecordingLogger() });
    await expect(b.start()).rejects.toThrow(/EADDRINUSE/);
    await b.shutdown();
    await a.shutdown();
  });
});
