import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSinkConfig, parseSinkConfig } from '../../src/sink/config.js';

describe('sink config', () => {
  it('defaults to 127.0.0.1:4400 with no destinations', () => {
    expect(parseSinkConfig({})).toMatchObject({ listen: { host: '127.0.0.1', port: 4400 }, writeTimeoutMs: 5000 });
  });

  it('reads YAML and layers CLAUDE_OTEL_SINK_* env vars over it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sink-config-'));
    const file = join(dir, 'sink.yaml');
    await writeFile(file, 'listen:\n  port: 5000\npostgres:\n  url: postgres://a@127.0.0.1/x\n  retentionDays: 3\n');
    const c = await loadSinkConfig({
      file,
      env: { CLAUDE_OTEL_SINK_PORT: '5001', CLAUDE_OTEL_SINK_REDIS_URL: 'redis://127.0.0.1:6379', CLAUDE_OTEL_SINK_WEBHOOK_ALLOW: '127.0.0.1, 10.0.0.0/8' },
    });
    expect(c.listen.port).toBe(5001);
    expect(c.postgres).toMatchObject({ url: 'postgres://a@127.0.0.1/x', retentionDays: 3, enabled: true });
    expect(c.redis).toMatchObject({ url: 'redis://127.0.0.1:6379', globalMaxLen: 100_000 });
    expect(c.webhooks?.allowPrivateAddresses).toEqual(['127.0.0.1', '10.0.0.0/8']);
  });

  it.each([
    ['unknown key', { listen: { port: 1, hots: 'x' } }, /hots/],
    ['bad secret', { postgres: { url: 'x' }, webhooks: { destinations: [{ name: 'a', url: 'https://e.com', secret: 'nope', events: ['slow_tool'] }] } }, /whsec_/],
    ['unknown event', { postgres: { url: 'x' }, webhooks: { destinations: [{ name: 'a', url: 'https://e.com', secret: 'whsec_AAAA', events: ['boom'] }] } }, /events/],
    ['webhooks without postgres', { webhooks: { destinations: [{ name: 'a', url: 'https://e.com', secret: 'whsec_AAAA', events: ['slow_tool'] }] } }, /need postgres/],
    ['non-http url', { postgres: { url: 'x' }, webhooks: { destinations: [{ name: 'a', url: 'file:///etc/passwd', secret: 'whsec_AAAA', events: ['slow_tool'] }] } }, /url/],
  ])('rejects %s with a readable message', (_l, raw, re) => {
    expect(() => parseSinkConfig(raw)).toThrow(re);
  });

  it('rejects a non-integer port from env', async () => {
    await expect(loadSinkConfig({ env: { CLAUDE_OTEL_SINK_PORT: 'http' } })).rejects.toThrow(/CLAUDE_OTEL_SINK_PORT/);
  });
});
