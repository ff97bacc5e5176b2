import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSinkCommand } from '../../src/sink/index.js';
import * as outboxSql from '../../src/sink/webhooks/outbox.js';
import { generateSecret } from '../../src/sink/webhooks/sign.js';
import { postJson, waitUntil } from './support/http.js';
import { type TestDatabase, createTestDatabase } from './support/pg.js';
import { buildSyntheticSession, randomSessionId, resourceSpans, spanIdFor, traceIdFor, type SyntheticSpan } from './support/session.js';
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

  it('re-sends a row left in doubt by a dead replica, same webhook-id, and says so (log, metric, row)', async () => {
    // A replica that died mid-attempt: the row claimed and the attempt stamped, no outcome recorded.
    await db.pool.query(`INSERT INTO webhook_outbox (webhook_id, destination, event_type, body) VALUES ('msg_doubt', 'ops', 'tool_failure', '{"type":"tool_failure"}')`);
    const [claimed] = await outboxSql.claimDue(db.pool, 1, 1);
    await outboxSql.renewClaim(db.pool, claimed!, 1);
    await new Promise((r) => setTimeout(r, 20)); // its lease ends
    sink = await start();
    const got = await receiver.waitFor((r) => r.some((w) => w.id === 'msg_doubt' && w.status === 200));
    expect(got.filter((w) => w.id === 'msg_doubt')).toHaveLength(1);
    await waitUntil(async () => (await outbox())[0]?.state === 'delivered');
    expect((await outbox())[0]).toMatchObject({ webhook_id: 'msg_doubt', in_doubt_attempts: 1, attempt_started_at: null });
    expect(sink.log.lines.filter((l) => l.level === 'warn' && /previous attempt has no recorded outcome/.test(l.msg))).toHaveLength(1);
    const metrics = await (await fetch(`${sink.url}/metrics`, { headers: sink.auth })).text();
    expect(metrics).toMatch(/claude_otel_sink_webhooks_in_doubt_total\{destination="webhook:ops"[^}]*\} 1/);
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

  describe('session_over_budget', () => {
    const T0 = Date.now() - 60_000;
    const ns = (ms: number) => `${BigInt(ms) * 1_000_000n}`;
    /** A span of the session carrying a cost (model call, turn roll-up or root roll-up). */
    const costSpan = (sessionId: string, key: string, kind: 'model_call' | 'turn' | 'session', costUsd: number, atMs: number): SyntheticSpan => ({
      traceId: traceIdFor(sessionId), spanId: spanIdFor(sessionId, key),
      ...(kind === 'session' ? {} : { parentSpanId: spanIdFor(sessionId, 'root') }),
      name: kind === 'model_call' ? 'chat claude-opus-5-5' : kind === 'turn' ? 'claude_code.turn' : 'invoke_agent claude-code',
      kind: 1, startTimeUnixNano: ns(atMs), endTimeUnixNano: ns(atMs + 1000),
      attributes: [
        { key: 'session.id', value: { stringValue: sessionId } },
        { key: 'claude_code.span.kind', value: { stringValue: kind } },
        { key: 'claude_code.cost.usd', value: { doubleValue: costUsd } },
      ],
    });
    const send = async (spans: SyntheticSpan[]) => expect((await postJson(`${sink!.url}/v1/traces`, resourceSpans(spans), sink!.auth)).status).toBe(200);
    const budgetRows = async () => (await outbox()).filter((r) => r.event_type === 'session_over_budget');
    const startBudget = () => start({ sessionBudgetUsd: 1 }, ['session_over_budget']);

    it('fires once per session when its model calls cross the budget, not on a re-sent batch, not again later', async () => {
      sink = await startBudget();
      const a = randomSessionId();
      const first = [costSpan(a, 'c1', 'model_call', 0.3, T0), costSpan(a, 'c2', 'model_call', 0.4, T0 + 2000)];
      await send(first);
      await send(first); // the collector retried: 0.7, not 1.4
      await new Promise((r) => setTimeout(r, 300));
      expect(await budgetRows()).toHaveLength(0);

      await send([costSpan(a, 'c3', 'model_call', 0.45, T0 + 4000)]); // 1.15 > 1
      const [w] = await receiver.waitFor((r) => r.length === 1);
      expect(w!.signatureValid).toBe(true);
      expect(w!.body.type).toBe('claude_code.session_over_budget');
      const data = w!.body.data as Record<string, unknown>;
      expect(data).toMatchObject({ session_id: a, trace_id: traceIdFor(a), budget_usd: 1, model_calls: 3 });
      expect(data.cost_usd).toBeCloseTo(1.15, 12);

      // Still over with more calls and the turn's roll-up: no second event for this session.
      await send([costSpan(a, 'c4', 'model_call', 0.2, T0 + 6000), costSpan(a, 'turn-1', 'turn', 1.35, T0)]);
      await new Promise((r) => setTimeout(r, 500));
      expect(await budgetRows()).toHaveLength(1);
      expect(receiver.received).toHaveLength(1);
    });

    it("counts the root's roll-up (Claude Code's own total) and stays silent at or under the budget", async () => {
      sink = await startBudget();
      const under = randomSessionId();
      const exact = randomSessionId();
      const byRoot = randomSessionId();
      await send([
        costSpan(under, 'c1', 'model_call', 0.5, T0), costSpan(under, 'turn-1', 'turn', 0.99, T0),
        costSpan(exact, 'root', 'session', 1, T0),
        costSpan(byRoot, 'c1', 'model_call', 0.2, T0), costSpan(byRoot, 'root', 'session', 1.05, T0),
      ]);
      const got = await receiver.waitFor((r) => r.length >= 1);
      await new Promise((r) => setTimeout(r, 300));
      expect(receiver.received).toHaveLength(1);
      expect((got[0]!.body.data as Record<string, unknown>)).toMatchObject({ session_id: byRoot, cost_usd: 1.05 });
    });

    it('is refused without a budget, and a budget without subscribers queries nothing', async () => {
      await expect(start({}, ['session_over_budget'])).rejects.toThrow(/sessionBudgetUsd/);
      sink = await start({ sessionBudgetUsd: 0.01 }, ['tool_failure']);
      await send([costSpan(randomSessionId(), 'c1', 'model_call', 5, T0)]);
      await new Promise((r) => setTimeout(r, 300));
      expect(await budgetRows()).toHaveLength(0);
    });
  });
});
