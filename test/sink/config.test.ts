import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSinkConfig, parseSinkConfig, resolveSinkToken } from '../../src/sink/config.js';

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

  const hook = { name: 'a', url: 'https://e.com', secret: 'whsec_AAAA', events: ['slow_tool'] as ['slow_tool'] };
  it.each([
    ['a non-loopback listener without a token', { listen: { host: '0.0.0.0' } }, /refusing to listen on 0\.0\.0\.0 without a token/],
    ['an IPv6 wildcard without a token', { listen: { host: '::' } }, /without a token/],
    ['a LAN address without a token', { listen: { host: '192.168.1.5' } }, /without a token/],
    ['webhooks without a token', { postgres: { url: 'x' }, webhooks: { destinations: [hook] } }, /webhooks need auth\.token/],
    ['a short token', { auth: { token: 'short' } }, /at least 16/],
    ['token and tokenFile', { auth: { token: 'a'.repeat(20), tokenFile: '/x' } }, /not both/],
  ])('refuses %s', (_l, raw, re) => {
    expect(() => parseSinkConfig(raw)).toThrow(re);
  });

  it.each(['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost'])('listens on loopback %s without a token', (host) => {
    expect(parseSinkConfig({ listen: { host } }).auth).toEqual({});
  });

  it('takes the token from env or a token file, env over file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sink-token-'));
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'file-token-0123456789abcdef\n', { mode: 0o600 });
    const viaFile = await loadSinkConfig({ env: { CLAUDE_OTEL_SINK_TOKEN_FILE: tokenFile, CLAUDE_OTEL_SINK_HOST: '0.0.0.0' } });
    expect(await resolveSinkToken(viaFile.auth)).toBe('file-token-0123456789abcdef');
    const file = join(dir, 'sink.yaml');
    await writeFile(file, `auth:\n  tokenFile: ${tokenFile}\n`);
    const viaEnv = await loadSinkConfig({ file, env: { CLAUDE_OTEL_SINK_TOKEN: 'env-token-0123456789abcdef' } });
    expect(await resolveSinkToken(viaEnv.auth)).toBe('env-token-0123456789abcdef');
    await writeFile(tokenFile, '\n');
    await expect(resolveSinkToken(viaFile.auth)).rejects.toThrow(/tokenFile/);
    await expect(resolveSinkToken({ tokenFile: join(dir, 'missing') })).rejects.toThrow(/cannot read auth.tokenFile/);
  });

  it('has bounded limits by default', () => {
    expect(parseSinkConfig({}).limits).toMatchObject({ maxJsonDepth: 64, maxColumnBytes: 256, pastDays: 7, futureDays: 1 });
  });

  it('rejects a non-integer port from env', async () => {
    await expect(loadSinkConfig({ env: { CLAUDE_OTEL_SINK_PORT: 'http' } })).rejects.toThrow(/CLAUDE_OTEL_SINK_PORT/);
  });
});
