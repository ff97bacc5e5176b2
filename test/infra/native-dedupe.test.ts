/**
 * The recipe of docs/trace-model.md for running the bridge beside Claude Code's own telemetry
 * (otel-collector/examples/native-telemetry-dedupe.yaml), live in the built otelcol: validated, then
 * fed what Claude Code 2.1.332 exports (scope com.anthropic.claude_code, names and labels as captured
 * from the real CLI) beside what the agent pushes. The native token and cost metrics and
 * llm_request spans must not come out; the bridge's series and the other native ones must.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';
import { eventually } from '../support/eventually.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CONFIGS = ['otel-collector/config.yaml', 'otel-collector/examples/native-telemetry-dedupe.yaml'].flatMap((c) => ['--config', join(ROOT, c)]);
const NATIVE = 'com.anthropic.claude_code';
const OURS = 'claude-otel-bridge/model-calls';

type Kv = { key: string; value: { stringValue: string } };
const kv = (o: Record<string, string>): Kv[] => Object.entries(o).map(([key, v]) => ({ key, value: { stringValue: v } }));
const ns = (ms: number) => String(BigInt(ms) * 1_000_000n);

function collectorBinary(): string {
  const r = spawnSync('bash', [join(ROOT, 'scripts/build-collector.sh')], { encoding: 'utf8', timeout: 30 * 60_000 });
  const path = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !existsSync(path)) throw new Error(`no collector binary: ${r.stderr.slice(-2000)}`);
  return path;
}

const until = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000) => eventually(what, timeoutMs, check);

describe('native telemetry de-duplication recipe (built otelcol)', () => {
  const state = mkdtempSync(join(tmpdir(), 'claude-otel-dedupe-'));
  const env: NodeJS.ProcessEnv = { ...process.env, OTELCOL_LISTEN_HOST: '127.0.0.1', OTELCOL_STORAGE_DIR: state, OTELCOL_SPANMETRICS_FLUSH_INTERVAL: '1s', CLAUDE_OTEL_SINK_TOKEN: 'unused' };
  let bin: string;
  let child: ChildProcess | undefined;
  let log = '';

  beforeAll(async () => {
    bin = collectorBinary();
    for (const key of ['OTELCOL_OTLP_GRPC_PORT', 'OTELCOL_OTLP_HTTP_PORT', 'OTELCOL_HEALTH_PORT', 'OTELCOL_METRICS_PORT', 'OTELCOL_PROMETHEUS_PORT']) env[key] = String(await freePort());
    // Jaeger and the sink are not running: their exporters queue and retry, which is not under test.
    env.OTELCOL_JAEGER_ENDPOINT = `127.0.0.1:${await freePort()}`;
    env.OTELCOL_SINK_ENDPOINT = `http://127.0.0.1:${await freePort()}`;
    child = spawn(bin, CONFIGS, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    await until('the collector health check', async () => ((await fetch(`http://127.0.0.1:${env.OTELCOL_HEALTH_PORT}/`)).ok ? true : undefined), 30_000)
      .catch((err: unknown) => { throw new Error(`${(err as Error).message}\n${log.slice(-3000)}`); });
  }, 30 * 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(state, { recursive: true, force: true });
  });

  it('validates over config.yaml', () => {
    const r = spawnSync(bin, ['validate', ...CONFIGS], { env, encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  });

  it('drops the native token and cost metrics, keeps the bridge\'s and the other native ones', async () => {
    const now = Date.now();
    const sum = (name: string, value: number, attrs: Record<string, string>) =>
      ({ name, sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ attributes: kv(attrs), startTimeUnixNano: ns(now - 60_000), timeUnixNano: ns(now), asDouble: value }] } });
    const nativeLabels = { 'session.id': 'e637bc3a-78a2-4dda-adf2-5c47a3c025d8', 'user.id': 'u1', model: 'claude-opus-5-5', 'terminal.type': 'xterm' };
    const oursLabels = { 'gen_ai.request.model': 'claude-opus-5-5', 'claude_code.agent.type': 'main', 'claude_code.project': 'dedupe-demo', 'gen_ai.operation.name': 'chat' };
    const body = {
      resourceMetrics: [
        { resource: { attributes: kv({ 'service.name': 'claude-code', 'service.version': '2.1.332' }) },
          scopeMetrics: [{ scope: { name: NATIVE }, metrics: [
            sum('claude_code.token.usage', 10, { ...nativeLabels, type: 'input' }),
            sum('claude_code.cost.usage', 0.00014, nativeLabels),
            sum('claude_code.session.count', 1, nativeLabels),
          ] }] },
        { resource: { attributes: kv({ 'service.name': 'claude-code', 'service.instance.id': 'agent-a' }) },
          scopeMetrics: [{ scope: { name: OURS }, metrics: [
            sum('claude_code.token.usage', 20, { ...oursLabels, 'gen_ai.token.type': 'input' }),
            sum('claude_code.cost.usd', 0.00028, oursLabels),
            { name: 'gen_ai.client.operation.duration', unit: 's', histogram: { aggregationTemporality: 2, dataPoints: [{ attributes: kv(oursLabels), startTimeUnixNano: ns(now - 60_000), timeUnixNano: ns(now), count: '2', sum: 0.5, bucketCounts: ['1', '1', '0'], explicitBounds: [0.16, 0.32] }] } },
          ] }] },
      ],
    };
    const res = await fetch(`http://127.0.0.1:${env.OTELCOL_OTLP_HTTP_PORT}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    const text = await until('the metrics on the Prometheus exporter', async () => {
      const t = await (await fetch(`http://127.0.0.1:${env.OTELCOL_PROMETHEUS_PORT}/metrics`)).text();
      return t.includes('claude_code_cost_usd') && t.includes('claude_code_session_count') ? t : undefined;
    });
    const lines = text.split('\n').filter((l) => !l.startsWith('#'));
    const tokens = lines.filter((l) => l.startsWith('claude_code_token_usage'));
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toContain('claude_code_project="dedupe-demo"');
    expect(tokens[0]).toContain('instance="agent-a"');
    expect(tokens[0]!.endsWith(' 20')).toBe(true);
    expect(lines.filter((l) => l.startsWith('claude_code_cost_usage'))).toEqual([]);
    expect(lines.some((l) => l.startsWith('claude_code_cost_usd_total{') && l.endsWith(' 0.00028'))).toBe(true);
    // The names the alert rules use, as this exporter writes them (unit suffix on the duration).
    expect(lines.some((l) => /^gen_ai_client_operation_duration_seconds_count\{.*\} 2$/.test(l))).toBe(true);
  });

  it('drops native llm_request spans before span metrics, keeps its interaction span', async () => {
    const traceId = '020a789ffab785e1a8b04ef05d6af3fd';
    const span = (name: string, spanId: string, parent?: string) => ({
      traceId, spanId, ...(parent ? { parentSpanId: parent } : {}), name, kind: 1,
      startTimeUnixNano: ns(Date.now() - 2000), endTimeUnixNano: ns(Date.now()),
      attributes: kv({ 'span.type': name.replace('claude_code.', ''), 'gen_ai.operation.name': name.endsWith('llm_request') ? 'chat' : 'invoke_agent' }),
    });
    const body = { resourceSpans: [{ resource: { attributes: kv({ 'service.name': 'claude-code' }) }, scopeSpans: [{ scope: { name: NATIVE }, spans: [
      span('claude_code.interaction', 'e2d6218b9ac59cdb'), span('claude_code.llm_request', 'ccf87017a51be6d3', 'e2d6218b9ac59cdb'),
    ] }] }] };
    const res = await fetch(`http://127.0.0.1:${env.OTELCOL_OTLP_HTTP_PORT}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    const text = await until('span metrics of the interaction', async () => {
      const t = await (await fetch(`http://127.0.0.1:${env.OTELCOL_PROMETHEUS_PORT}/metrics`)).text();
      return /traces_span_metrics_calls_total\{[^}]*span_name="claude_code.interaction"[^}]*\} 1$/m.test(t) ? t : undefined;
    });
    await new Promise((r) => setTimeout(r, 1500)); // one more flush: a late llm_request series would show now
    const again = await (await fetch(`http://127.0.0.1:${env.OTELCOL_PROMETHEUS_PORT}/metrics`)).text();
    expect(text + again).not.toContain('span_name="claude_code.llm_request"');
  });
});
