import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('answers 401 on both OTLP routes without the bearer token, and writes nothing', async () => {
    const s = buildSyntheticSession();
    const before = await rows();
    for (const [path, body] of [['/v1/traces', s.traces], ['/v1/logs', s.logs]] as const) {
      expect((await postJson(`${sink.url}${path}`, body)).status).toBe(401);
      expect((await postJson(`${sink.url}${path}`, body, { authorization: 'Bearer nope' })).status).toBe(401);
      expect((await postJson(`${sink.url}${path}`, body, { authorization: `Basic ${sink.token}` })).status).toBe(401);
    }
    expect(await rows()).toBe(before);
  });

  it('serves /healthz (status only) and /metrics on a loopback listener without the token', async () => {
    const h = await fetch(`${sink.url}/healthz`);
    expect(await h.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${sink.url}/metrics`)).status).toBe(200);
  });

  it('refuses a DNS name in Host on a loopback listener (rebinding), accepts IPs and localhost', async () => {
    const port = new URL(sink.url).port;
    const get = (host: string) =>
      new Promise<number>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: '/healthz', headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject).end();
      });
    expect(await get(`evil.example:${port}`)).toBe(403);
    expect(await get(`localhost:${port}`)).toBe(200);
    expect(await get(`127.0.0.1:${port}`)).toBe(200);
    expect(await get(`[::1]:${port}`)).toBe(200);
  });
});

describe('sink on a non-loopback listener', () => {
  it('needs the token for /metrics too; /healthz stays open', async () => {
    const token = 'x'.repeat(24);
    const s = createSinkService(parseSinkConfig({ listen: { host: '0.0.0.0', port: 0 }, auth: { token } }), { log: createRecordingLogger() });
    await s.start();
    try {
      const url = `http://127.0.0.1:${new URL(s.url).port}`;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
      expect((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      expect((await postJson(`${url}/v1/traces`, {})).status).toBe(401);
      expect((await postJson(`${url}/v1/traces`, {}, { authorization: `Bearer ${token}` })).status).toBe(200);
    } finally {
      await s.shutdown();
    }
  });

  it('reads the token from auth.tokenFile at start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sink-tf-'));
    writeFileSync(join(dir, 'token'), 'from-a-file-0123456789\n');
    const s = createSinkService(parseSinkConfig({ listen: { port: 0 }, auth: { tokenFile: join(dir, 'token') } }), { log: createRecordingLogger() });
    await s.start();
    try {
      expect((await postJson(`${s.url}/v1/traces`, {})).status).toBe(401);
      expect((await postJson(`${s.url}/v1/traces`, {}, { authorization: 'Bearer from-a-file-0123456789' })).status).toBe(200);
    } finally {
      await s.shutdown();
    }
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
