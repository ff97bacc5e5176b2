import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSinkCommand } from '../../src/sink/index.js';
import { generateSecret } from '../../src/sink/webhooks/sign.js';
import { postJson, waitUntil } from './support/http.js';
import { type TestDatabase, createTestDatabase } from './support/pg.js';
import { buildSyntheticSession } from './support/session.js';
import { type TestSink, startTestSink } from './support/sink.js';
import { type WebhookReceiver, startWebhookReceiver } from './support/webhook-receiver.js';

const capture = () => {
  let text = '';
  const stream = new Writable({ write(chunk, _e, cb) { text += String(chunk); cb(); } });
  return { stream, text: () => text };
};

describe('webhook delivery', () => {
  let db: TestDatabase;
  let receiver: WebhookReceiver;
  let sink: TestSink | undefined;
  const secret = generateSecret();

  beforeAll(async () => {
    db = await createTestDatabase('webhooks');
    receiver = await startWebhookReceiver(secret);
  });
  afterEach(async () => {
    await sink?.service.shutdown();
    sink = undefined;
    receiver.received.length = 0;
    receiver.respond = () => ({ status: 200 });
    await db.pool.query('TRUNCATE webhook_outbox, webhook_destination_state').catch(() => {});
  });
  afterAll(async () => {
    await receiver?.close();
    await db?.drop();
  });

  const start = (over: Record<string, unknown> = {}, events = ['tool_failure']) =>
    startTestSink({
      postgres: { url: db.url },
      webhooks: {
        allowPrivateAddresses: ['127.0.0.1'],
        pollIntervalMs: 50,
        backoffBaseMs: 100,
        maxAttempts: 4,
        destinations: [{ name: 'ops', url: receiver.url, secret, events: events as ['tool_failure'] }],
        ...over,
      },
    });
  const outbox = async () => (await db.pool.query('SELECT * FROM webhook_outbox ORDER BY id')).rows;

  it('retries a receiver answering 500 until it answers 200, with the same webhook-id', async () => {
    receiver.respond = (n) => ({ status: n < 3 ? 500 : 200 });
    sink = await start();
    const session = buildSyntheticSession();
    expect((await postJson(`${sink.url}/v1/traces`, session.traces, sink.auth)).status).toBe(200);
    const got = await receiver.waitFor((r) => r.some((w) => w.status === 200));
    expect(got.map((w) => w.status)).toEqual([500, 500, 500, 200]);
    expect(new Set(got.map((w) => w.id)).size).toBe(1);
    expect(got.every((w) => w.signatureValid)).toBe(true);
    await waitUntil(async () => (await outbox())[0]?.state === 'delivered');
    expect((await outbox())[0]).toMatchObject({ attempts: 4, last_status: 200 });
  });

  it('honours Retry-After', async () => {
    receiver.respond = (n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 });
    sink = await start();
    await postJson(`${sink.url}/v1/traces`, buildSyntheticSession().traces, sink.auth);
    const got = await receiver.waitFor((r) => r.length === 2);
    const gap = Number(got[1]!.timestamp) - Number(got[0]!.timestamp);
    expect(gap).toBeGreaterThanOrEqual(1);
  });

  it('dead-letters after the last attempt; the CLI lists and replays it', async () => {
    receiver.respond = () => ({ status: 503 });
    sink = await start();
    await postJson(`${sink.url}/v1/traces`, buildSyntheticSession().traces, sink.auth);
    await waitUntil(async () => (await outbox())[0]?.state === 'dead', 15_000, 'dead letter');
    expect(receiver.received).toHaveLength(4);
    const token = sink.token;
    await sink.service.shutdown();
    sink = undefined;

    const file = join(tmpdir(), `sink-cli-${process.pid}.json`);
    await writeFile(file, JSON.stringify({
      auth: { token },
      postgres: { url: db.url },
      webhooks: { allowPrivateAddresses: ['127.0.0.1'], destinations: [{ name: 'ops', url: receiver.url, secret, events: ['tool_failure'] }] },
    }));
    const list = capture();
    expect(await runSinkCommand(['dead-letters', 'list', '--config', file], { stdout: list.stream, stderr: capture().stream, env: {} })).toBe(0);
    const [id, webhookId] = list.text().split('\t');
    expect(webhookId).toBe(receiver.received[0]!.id);
    receiver.respond = () => ({ status: 200 });
    const replay = capture();
    expect(await runSinkCommand(['dead-letters', 'replay', id!, '--config', file], { stdout: replay.stream, stderr: capture().stream, env: {} })).toBe(0);
    expect(replay.text()).toContain('delivered');
    expect(receiver.received.at(-1)).toMatchObject({ id: webhookId, status: 200, signatureValid: true });
  });

  it('disables a destination that answers 410 Gone', async () => {
    receiver.respond = () => ({ status: 410 });
    sink = await start({}, ['tool_failure', 'slow_tool']);
    await postJson(`${sink.url}/v1/traces`, buildSyntheticSession().traces, sink.auth);
    await waitUntil(async () => (await outbox()).every((r) => r.state === 'dead'), 10_000, '410 handling');
    const state = await db.pool.query('SELECT * FROM webhook_destination_state');
    expect(state.rows[0]).toMatchObject({ destination: 'ops' });
    expect(receiver.received).toHaveLength(1);
  });

  it('does not follow redirects', async () => {
    receiver.respond = () => ({ status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data' } });
    sink = await start();
    await postJson(`${sink.url}/v1/traces`, buildSyntheticSession().traces, sink.auth);
    await waitUntil(async () => (await outbox())[0]?.state === 'dead', 10_000, 'redirect dead-letter');
    expect((await outbox())[0].last_error).toMatch(/redirect/);
    expect(receiver.received).toHaveLength(1);
  });

  it('refuses a destination on a private address without an allow-list entry, with a clear log line', async () => {
    sink = await start({ allowPrivateAddresses: [] });
    const line = sink.log.lines.find((l) => l.level === 'error' && /refused/.test(l.msg));
    expect(line?.msg).toMatch(/webhook destination "ops" refused: .*127\.0\.0\.1.*private.*allowPrivateAddresses/);
    expect((await postJson(`${sink.url}/v1/traces`, buildSyntheticSession().traces, sink.auth)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(await outbox()).toHaveLength(0);
    expect(receiver.received).toHaveLength(0);
  });

  it('formats for Slack when asked', async () => {
    sink = await startTestSink({
      postgres: { url: db.url },
      webhooks: {
        allowPrivateAddresses: ['127.0.0.1'], pollIntervalMs: 50,
        destinations: [{ name: 'slack', url: receiver.url, secret, events: ['tool_failure'], format: 'slack' }],
      },
    });
    await postJson(`${sink.url}/v1/traces`, buildSyntheticSession().traces, sink.auth);
    const [w] = await receiver.waitFor((r) => r.length === 1);
    expect(String(w!.body.text)).toMatch(/Tool \*Bash\* failed: exit_code_1/);
  });
});
