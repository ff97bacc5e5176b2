import { execFileSync } from 'node:child_process';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, waitUntil } from './support/http.js';
import { buildSyntheticSession, chunkedBodies } from './support/session.js';
import { type TestSink, startTestSink } from './support/sink.js';
import { type FaultProxy, startFaultProxy } from './support/tcp-proxy.js';

describe('Redis outage', () => {
  let proxy: FaultProxy;
  let sink: TestSink;
  const redis = createClient({ url: 'redis://127.0.0.1:6379' });
  const session = buildSyntheticSession({ extraTools: 100 });
  const bodies = chunkedBodies(session.spans, 10);

  beforeAll(async () => {
    redis.on('error', () => {}); // the last test restarts the real Redis under this client
    await redis.connect();
    proxy = await startFaultProxy(6379);
    sink = await startTestSink({ redis: { url: `redis://127.0.0.1:${proxy.port}`, commandTimeoutMs: 1_000 }, writeTimeoutMs: 2_000 });
    await waitUntil(async () => (await postJson(`${sink.url}/v1/traces`, bodies[0], sink.auth)).status === 200, 10_000, 'redis connected');
  });
  afterAll(async () => {
    await sink?.service.shutdown();
    await proxy?.close();
    const fresh = createClient({ url: 'redis://127.0.0.1:6379' });
    await fresh.connect();
    for (const key of await fresh.keys(`${sink.prefix}:*`)) await fresh.del(key);
    await fresh.close();
    redis.destroy();
  });

  it('answers 503 while Redis is down, recovers, and replays do not duplicate entries', async () => {
    for (const b of bodies.slice(0, 4)) expect((await postJson(`${sink.url}/v1/traces`, b, sink.auth)).status).toBe(200);
    await proxy.down();
    const down = await postJson(`${sink.url}/v1/traces`, bodies[4], sink.auth);
    expect(down.status).toBe(503);
    expect(String(down.body.message)).toMatch(/redis/);
    expect(sink.log.lines.some((l) => l.msg === 'redis connection error')).toBe(true);
    await proxy.up();
    await waitUntil(async () => (await postJson(`${sink.url}/v1/traces`, bodies[4], sink.auth)).status === 200, 20_000, 'redis back');
    for (const b of bodies) expect((await postJson(`${sink.url}/v1/traces`, b, sink.auth)).status).toBe(200);
    expect(await redis.xLen(`${sink.prefix}:spans`)).toBe(session.spans.length);
    expect(await redis.xLen(`${sink.prefix}:session:${session.sessionId}`)).toBe(session.spans.length);
  });

  it('starts while Redis is unreachable and connects when it is back', async () => {
    const proxy2 = await startFaultProxy(6379);
    await proxy2.down();
    const late = await startTestSink({ redis: { url: `redis://127.0.0.1:${proxy2.port}` } }, `${sink.prefix}:late`);
    try {
      expect((await postJson(`${late.url}/v1/traces`, bodies[0], late.auth)).status).toBe(503);
      await proxy2.up();
      await waitUntil(async () => (await postJson(`${late.url}/v1/traces`, bodies[0], late.auth)).status === 200, 20_000, 'redis connected late');
    } finally {
      await late.service.shutdown();
      await proxy2.close();
    }
  });

  // The real thing: the machine's redis-server is shut down and started again with the command the
  // environment documents (it keeps nothing on disk, so the streams start empty after the restart).
  // Test files run one at a time; the finally block starts Redis whatever happens.
  it('answers 503 while the real Redis is shut down and writes again after it is restarted', async () => {
    const direct = await startTestSink({ redis: { url: 'redis://127.0.0.1:6379', commandTimeoutMs: 1_000 }, writeTimeoutMs: 2_000 });
    const start = () => execFileSync('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', '6379', '--save', '', '--appendonly', 'no', '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/ci.log']);
    try {
      expect((await postJson(`${direct.url}/v1/traces`, bodies[0], direct.auth)).status).toBe(200);
      execFileSync('redis-cli', ['-h', '127.0.0.1', 'shutdown', 'nosave']);
      expect((await postJson(`${direct.url}/v1/traces`, bodies[1], direct.auth)).status).toBe(503);
      start();
      await waitUntil(async () => (await postJson(`${direct.url}/v1/traces`, bodies[1], direct.auth)).status === 200, 20_000, 'redis restarted');
      for (const b of bodies) expect((await postJson(`${direct.url}/v1/traces`, b, direct.auth)).status).toBe(200);
      const check = createClient({ url: 'redis://127.0.0.1:6379' });
      await check.connect();
      try {
        // bodies[0] was written before the restart and lost with Redis's memory; its replay wrote it again.
        expect(await check.xLen(`${direct.prefix}:session:${session.sessionId}`)).toBe(session.spans.length);
        for (const key of await check.keys(`${direct.prefix}:*`)) await check.del(key);
      } finally {
        await check.close();
      }
    } finally {
      try {
        execFileSync('redis-cli', ['-h', '127.0.0.1', 'ping'], { stdio: 'ignore' });
      } catch {
        start();
      }
      await direct.service.shutdown();
    }
  }, 60_000);
});
