import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../src/sink/webhooks/sign.js';
import { postJson, waitUntil } from './support/http.js';
import { type TestDatabase, createTestDatabase } from './support/pg.js';
import { buildSyntheticSession } from './support/session.js';
import { type TestSink, startTestSink } from './support/sink.js';
import { type WebhookReceiver, startWebhookReceiver } from './support/webhook-receiver.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

describe('sink ingest: a realistic session', () => {
  let db: TestDatabase;
  let sink: TestSink;
  let receiver: WebhookReceiver;
  const secret = generateSecret();
  const redis = createClient({ url: REDIS_URL });
  const session = buildSyntheticSession();

  beforeAll(async () => {
    db = await createTestDatabase('ingest');
    receiver = await startWebhookReceiver(secret);
    await redis.connect();
    sink = await startTestSink({
      postgres: { url: db.url },
      redis: { url: REDIS_URL },
      webhooks: {
        allowPrivateAddresses: ['127.0.0.1'],
        pollIntervalMs: 100,
        destinations: [
          { name: 'ops', url: receiver.url, secret, events: ['tool_failure', 'slow_tool', 'permission_denied', 'session_end', 'turn_failure'] },
        ],
      },
    });
  });

  afterAll(async () => {
    await sink?.service.shutdown();
    for (const key of await redis.keys(`${sink.prefix}:*`)) await redis.del(key);
    await redis.close();
    await receiver?.close();
    await db?.drop();
  });

  it('accepts traces and logs with 200 and an empty OTLP response', async () => {
    const t = await postJson(`${sink.url}/v1/traces`, session.traces, sink.auth);
    expect(t).toMatchObject({ status: 200, body: {} });
    const l = await postJson(`${sink.url}/v1/logs`, session.logs, sink.auth);
    expect(l).toMatchObject({ status: 200, body: {} });
  });

  it('writes one row per span with promoted columns', async () => {
    const { rows } = await db.pool.query('SELECT * FROM spans WHERE session_id = $1 ORDER BY start_time', [session.sessionId]);
    expect(rows).toHaveLength(session.spans.length);
    const bash = rows.find((r) => r.span_id === session.ids['tool/toolu_bash2']);
    expect(bash).toMatchObject({
      trace_id: session.traceId, parent_span_id: session.ids['turn/p1'], kind: 'tool', tool_name: 'Bash',
      operation: 'execute_tool', status: 'error', error_type: 'exit_code_1', prompt_id: 'p1', duration_ms: 900,
      performance_category: 'normal', status_message: 'npm test failed',
    });
    expect(bash.attributes['gen_ai.tool.call.id']).toBe('toolu_bash2');
    expect(bash.resource['service.name']).toBe('claude-code');
    const sub = rows.find((r) => r.kind === 'subagent');
    expect(sub).toMatchObject({ agent_type: 'Explore', parent_span_id: session.ids['tool/toolu_agent1'] });
    const edit = rows.find((r) => r.tool_name === 'Edit');
    expect(edit.events[0].name).toBe('claude_code.hook.PermissionDenied');
    const root = rows.find((r) => r.parent_span_id === null);
    expect(root).toMatchObject({ kind: 'session', name: 'invoke_agent claude-code', duration_ms: 600_000 });
  });

  it('writes the log record and a session summary', async () => {
    const logs = await db.pool.query('SELECT * FROM log_records WHERE session_id = $1', [session.sessionId]);
    expect(logs.rows).toHaveLength(1);
    expect(logs.rows[0]).toMatchObject({ event_name: 'claude_code.hook.PermissionDenied', span_id: session.ids['tool/toolu_edit1'] });
    const s = await db.pool.query('SELECT * FROM session_summaries WHERE session_id = $1', [session.sessionId]);
    expect(s.rows[0]).toMatchObject({ turns: '2', tool_calls: '9', tool_errors: '2', subagents: '1', failed_turns: '1', ended: true });
  });

  it('replaying the same bodies adds no rows', async () => {
    expect((await postJson(`${sink.url}/v1/traces`, session.traces, sink.auth)).status).toBe(200);
    expect((await postJson(`${sink.url}/v1/logs`, session.logs, sink.auth)).status).toBe(200);
    const n = await db.pool.query('SELECT count(*)::int AS n FROM spans');
    expect(n.rows[0].n).toBe(session.spans.length);
    const l = await db.pool.query('SELECT count(*)::int AS n FROM log_records');
    expect(l.rows[0].n).toBe(1);
  });

  it('appends stream entries to the global and the per-session stream, once', async () => {
    const global = await redis.xRange(`${sink.prefix}:spans`, '-', '+');
    expect(global).toHaveLength(session.spans.length);
    const sessionKey = `${sink.prefix}:session:${session.sessionId}`;
    const mine = await redis.xRange(sessionKey, '-', '+');
    expect(mine).toHaveLength(session.spans.length + 1); // spans + the log record
    const failed = mine.find((e) => e.message.span_id === session.ids['tool/toolu_bash2'])!;
    expect(failed.message).toMatchObject({ type: 'span', tool_name: 'Bash', status: 'error', error_type: 'exit_code_1', session_id: session.sessionId });
    expect(JSON.parse(failed.message.json!).attributes['gen_ai.tool.call.id']).toBe('toolu_bash2');
    const ttl = await redis.ttl(sessionKey);
    expect(ttl).toBeGreaterThan(0);
    expect(await redis.xLen(`${sink.prefix}:logs`)).toBe(1);
  });

  it('delivers signed webhooks for each event, once per event', async () => {
    const all = await receiver.waitFor((r) => r.length >= 6);
    await new Promise((r) => setTimeout(r, 300));
    expect(all.every((w) => w.signatureValid)).toBe(true);
    const types = all.map((w) => w.body.type).sort();
    expect(types).toEqual([
      'claude_code.permission_denied', 'claude_code.session_end', 'claude_code.slow_tool', 'claude_code.slow_tool',
      'claude_code.tool_failure', 'claude_code.turn_failure',
    ]);
    expect(new Set(all.map((w) => w.id)).size).toBe(6);
    const end = all.find((w) => w.body.type === 'claude_code.session_end')!;
    expect((end.body.data as Record<string, unknown>).summary).toMatchObject({ turns: 2, tool_calls: 9, tool_errors: 2 });
    await waitUntil(async () => {
      const r = await db.pool.query("SELECT count(*)::int AS n FROM webhook_outbox WHERE state = 'delivered'");
      return r.rows[0].n === 6;
    });
  });

  it('serves health and Prometheus metrics', async () => {
    const h = await fetch(`${sink.url}/healthz`);
    expect(h.status).toBe(200);
    const m = await (await fetch(`${sink.url}/metrics`)).text();
    expect(m).toMatch(/claude_otel_sink_received_total\{signal="traces"[^}]*\} 26/);
    expect(m).toMatch(/claude_otel_sink_written_total\{destination="postgres"[^}]*\} 28/);
    expect(m).toMatch(/claude_otel_sink_written_total\{destination="webhook:ops"[^}]*\} 6/);
    expect(m).toMatch(/claude_otel_sink_write_duration_seconds_bucket/);
  });
});
