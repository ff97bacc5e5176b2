// The whole pipeline with real components: the real Claude Code CLI → our hooks → agent → the
// OpenTelemetry Collector built here (otel-collector/config.yaml, as in docker-compose.yml) →
// Jaeger (query API), and → the sink → PostgreSQL rows, Redis stream entries, a signed webhook;
// the agent's model-call metrics pushed over OTLP → the collector's Prometheus exporter → Prometheus.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupBridge, type Bridge } from '../support/bridge-e2e.js';
import { freePort } from '../support/ports.js';
import { bash, scenario, text, tool, tools, withUsage, type Reply, type Usage } from '../support/model-server.js';
import { fixture } from '../support/fixtures.js';
import { removeHome, startTestAgent } from '../support/agent-harness.js';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../sink/support/pg.js';
import { startTestSink, type TestSink } from '../sink/support/sink.js';
import { startWebhookReceiver, type WebhookReceiver } from '../sink/support/webhook-receiver.js';
import { eventually } from '../support/eventually.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SECRET = `whsec_${Buffer.from('full-stack-test-secret-0123456789').toString('base64')}`;

/** Response n of the session reports these usage numbers: every sum is distinct. */
const usageOf = (n: number): Usage => ({ input_tokens: 100 * n + 1, output_tokens: 10 * n + 2, cache_read_input_tokens: 1000 * n + 3, cache_creation_input_tokens: 50 * n + 4 });

const until = <T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: string) => eventually(what, timeoutMs, check, 200);

describe('full stack: Claude Code → agent → collector → Jaeger and sinks', () => {
  const env: Record<string, string> = {};
  let stackDir: string;
  let db: TestDatabase;
  let sink: TestSink;
  let webhooks: WebhookReceiver;
  let bridge: Bridge;

  const stack = (cmd: 'up' | 'down', extra: Record<string, string> = {}) =>
    execFileSync('bash', [join(ROOT, 'scripts/stack.sh'), cmd], { env: { ...process.env, ...env, ...extra }, stdio: 'pipe', timeout: 1_200_000 });

  beforeAll(async () => {
    stackDir = mkdtempSync(join(tmpdir(), 'cob-stack-'));
    for (const line of readFileSync(join(ROOT, 'otel-collector/ports.env'), 'utf8').split('\n')) {
      const key = /^([A-Z_]+_PORT)=/.exec(line)?.[1];
      if (key) env[key] = String(await freePort());
    }
    db = await createTestDatabase('fullstack');
    webhooks = await startWebhookReceiver(SECRET);
    sink = await startTestSink({
      postgres: { url: db.url },
      redis: { url: 'redis://127.0.0.1:6379' },
      webhooks: {
        allowPrivateAddresses: ['127.0.0.1'],
        destinations: [{ name: 'test', url: webhooks.url, secret: SECRET, events: ['tool_failure', 'session_end'] }],
      },
    });
    Object.assign(env, {
      CLAUDE_OTEL_STACK_DIR: stackDir,
      CLAUDE_OTEL_STACK_SERVICES: 'jaeger otelcol prometheus',
      PROMETHEUS_SCRAPE_INTERVAL: '1s',
      OTELCOL_SINK_ENDPOINT: sink.url,
      SINK_PORT: new URL(sink.url).port,
      CLAUDE_OTEL_SINK_TOKEN: sink.token, // stack.sh hands it to the collector, which sends it to the sink
    });
    stack('up');
  }, 1_500_000);

  afterAll(async () => {
    await bridge?.cleanup();
    try {
      stack('down');
    } catch {
      /* reported by the tests */
    }
    await sink?.service.shutdown();
    await webhooks?.close();
    await db?.drop();
    rmSync(stackDir, { recursive: true, force: true });
  });

  it('delivers one session to Jaeger, PostgreSQL, Redis Streams, a signed webhook, and its tokens and cost to Prometheus', async () => {
    let served = 0;
    bridge = await setupBridge(
      scenario({ main: (req) => withUsage(([tools(bash('echo hi'), tool('Read', { file_path: '/etc/hostname' })), tools(bash('exit 3')), text('done')][req.step] ?? text('done')) as Reply, usageOf(++served)) }),
      { allowedTools: ['Bash', 'Read'], otlpEndpoint: `http://127.0.0.1:${env.OTELCOL_OTLP_HTTP_PORT}` },
    );
    const run = await bridge.run('go');
    expect(run.exitCode).toBe(0);
    await bridge.stopAgent();
    const sessionId = run.json!.session_id as string;
    const traceId = sessionId.replace(/-/g, '');
    const expected = 8; // root, turn, 3 tools, 3 model calls (one chat span per scripted response)

    // Jaeger: the full tree through its query API.
    const jaeger = await until(async () => {
      const res = await fetch(`http://127.0.0.1:${env.JAEGER_QUERY_HTTP_PORT}/api/traces/${traceId}`);
      if (!res.ok) return undefined;
      const body = (await res.json()) as { data: { spans: { spanID: string; operationName: string; references: { refType: string; spanID: string }[] }[] }[] };
      const spans = body.data[0]?.spans ?? [];
      return spans.length >= expected ? spans : undefined;
    }, 60_000, 'the trace in Jaeger');
    const ids = new Set(jaeger.map((s) => s.spanID));
    expect(jaeger.filter((s) => !s.references.some((r) => r.refType === 'CHILD_OF'))).toHaveLength(1);
    for (const s of jaeger) for (const r of s.references) expect(ids.has(r.spanID)).toBe(true);
    expect(jaeger.filter((s) => s.operationName.startsWith('chat '))).toHaveLength(3);
    expect(jaeger.map((s) => s.operationName).filter((n) => !n.startsWith('chat ')).sort()).toEqual(['claude_code.turn', 'execute_tool Bash', 'execute_tool Bash', 'execute_tool Read', 'invoke_agent claude-code']);

    // PostgreSQL: rows with promoted columns, the same tree.
    const rows = await until(async () => {
      const r = await db.pool.query<{ span_id: string; parent_span_id: string | null; name: string; error_type: string | null; tool_name: string | null }>(
        'SELECT span_id, parent_span_id, name, error_type, tool_name FROM spans WHERE session_id = $1', [sessionId]);
      return r.rows.length >= expected ? r.rows : undefined;
    }, 60_000, 'the spans in PostgreSQL').catch((err: unknown) => {
      console.error(readFileSync(join(stackDir, 'logs', 'otelcol.log'), 'utf8').slice(-4000));
      console.error(JSON.stringify(sink.log.lines.slice(-20)));
      throw err;
    });
    expect(rows).toHaveLength(expected);
    expect(rows.filter((r) => r.error_type === 'exit_code_3').map((r) => r.tool_name)).toEqual(['Bash']);
    const rowIds = new Set(rows.map((r) => r.span_id));
    for (const r of rows) if (r.parent_span_id) expect(rowIds.has(r.parent_span_id)).toBe(true);

    // Redis Streams: the per-session stream holds every span.
    const redis = createClient({ url: 'redis://127.0.0.1:6379' });
    await redis.connect();
    try {
      const entries = await until(async () => {
        const e = (await redis.xRange(`${sink.prefix}:session:${sessionId}`, '-', '+')).filter((x) => x.message.type === 'span');
        return e.length >= expected ? e : undefined;
      }, 30_000, 'the session stream');
      expect(new Set(entries.map((e) => e.message.span_id)).size).toBe(expected);
    } finally {
      await redis.quit();
    }

    // A signed webhook for the failing tool.
    const got = await webhooks.waitFor((all) => all.some((w) => String(w.body.type).includes('tool_failure')), 60_000);
    const failure = got.find((w) => String(w.body.type).includes('tool_failure'))!;
    expect(failure.signatureValid).toBe(true);

    // Prometheus: the model-call series the agent pushed over OTLP (flushed at its shutdown), scraped
    // from the collector's exporter, equal to the scripted usage and to the chat spans' cost.
    const responses = bridge.ms.requests.filter((q) => q.messageId);
    expect(responses).toHaveLength(3);
    const scripted = (pick: (u: Usage) => number) => responses.reduce((a, q) => a + pick(q.usage!), 0);
    const project = basename(bridge.project.dir);
    const promql = async (query: string) => {
      const res = await fetch(`http://127.0.0.1:${env.PROMETHEUS_PORT}/api/v1/query?query=${encodeURIComponent(query)}`);
      const body = (await res.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      return body.data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
    };
    const sel = `job="otelcol-spanmetrics", claude_code_project="${project}"`;
    const byType = await until(async () => {
      const r = await promql(`sum by (gen_ai_token_type) (claude_code_token_usage_total{${sel}})`);
      return r.length === 4 ? Object.fromEntries(r.map((x) => [x.labels.gen_ai_token_type, x.value])) : undefined;
    }, 60_000, 'the token series in Prometheus');
    expect(byType).toEqual({
      input: scripted((u) => u.input_tokens),
      output: scripted((u) => u.output_tokens),
      cache_read: scripted((u) => u.cache_read_input_tokens!),
      cache_creation: scripted((u) => u.cache_creation_input_tokens!),
    });
    const histogram = await promql(`sum by (gen_ai_token_type) (gen_ai_client_token_usage_sum{${sel}})`);
    expect(Object.fromEntries(histogram.map((x) => [x.labels.gen_ai_token_type, x.value]))).toEqual({
      input: scripted((u) => u.input_tokens + u.cache_read_input_tokens! + u.cache_creation_input_tokens!),
      output: scripted((u) => u.output_tokens),
    });
    const costRows = await db.pool.query<{ cost: number }>(
      `SELECT (attributes->>'claude_code.cost.usd')::float8 AS cost FROM spans WHERE session_id = $1 AND name LIKE 'chat %'`, [sessionId]);
    const spanCost = costRows.rows.reduce((a, r) => a + r.cost, 0);
    expect(costRows.rows).toHaveLength(3);
    expect(spanCost).toBeGreaterThan(0);
    const cost = await promql(`claude_code_cost_usd_total{${sel}}`);
    expect(cost.map((c) => c.labels.gen_ai_request_model)).toEqual(['claude-opus-5-5']);
    expect(cost[0]!.value).toBeCloseTo(spanCost, 12);
    expect(Math.abs(cost[0]!.value - (run.json!.total_cost_usd as number)) / cost[0]!.value).toBeLessThan(0.01);
    // Bounded labels: nothing names the session.
    const labelSets = await promql(`{__name__=~"gen_ai_.*|claude_code_.*", ${sel}}`);
    expect(labelSets.length).toBeGreaterThan(0);
    for (const { labels } of labelSets) expect(JSON.stringify(labels)).not.toContain(sessionId);
  }, 300_000);

  it('loses nothing when the collector restarts while the agent keeps sending (counted at both ends)', async () => {
    const agent = await startTestAgent({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${env.OTELCOL_OTLP_HTTP_PORT}` } });
    const sessions: string[] = [];
    try {
      const post = (name: string, o: Record<string, unknown>) => agent.post(JSON.stringify(fixture(name, o)));
      for (let i = 0; i < 30; i++) {
        if (i === 10) {
          stack('down', { CLAUDE_OTEL_STACK_SERVICES: 'otelcol' });
          const health = await fetch(`http://127.0.0.1:${env.OTELCOL_OTLP_HTTP_PORT}/v1/traces`, { method: 'POST', body: '{}' }).then(() => 'up', () => 'down');
          expect(health).toBe('down'); // the outage is real
        }
        if (i === 20) stack('up', { CLAUDE_OTEL_STACK_SERVICES: 'otelcol' });
        const session_id = randomUUID();
        sessions.push(session_id);
        const p = { session_id, prompt_id: `p-${i}` };
        await post('SessionStart', p);
        await post('UserPromptSubmit', p);
        for (const t of ['a', 'b']) {
          await post('PreToolUse', { ...p, tool_use_id: `${t}${i}` });
          await post('PostToolUse', { ...p, tool_use_id: `${t}${i}`, duration_ms: 5 });
        }
        await post('Stop', p);
        await post('SessionEnd', p);
        await new Promise((r) => setTimeout(r, 200));
      }
      const expected = sessions.length * 4;
      const count = async () => Number((await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM spans WHERE session_id = ANY($1)', [sessions])).rows[0]!.n);
      await until(async () => (await count()) >= expected, 120_000, `${expected} spans in PostgreSQL`);
      const metrics = await agent.metrics();
      const exported = Number(/^claude_otel_spans_exported_total(?:\{[^}]*\})? (\d+)/m.exec(metrics)?.[1]);
      expect(exported).toBe(expected); // the agent's end: every span confirmed exported once
      expect(await count()).toBe(expected); // the store's end
      const distinct = await db.pool.query<{ n: string }>('SELECT count(DISTINCT span_id) AS n FROM spans WHERE session_id = ANY($1)', [sessions]);
      expect(Number(distinct.rows[0]!.n)).toBe(expected);
    } finally {
      await agent.stop();
      removeHome(agent.home);
    }
  }, 300_000);
});
