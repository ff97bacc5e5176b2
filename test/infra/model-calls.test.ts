/**
 * Model-call metrics and alerts (issue 11): the rules in prometheus/model-calls-alerts.yml under
 * promtool (each fires and stays silent; changing a threshold fails the tests), and the
 * collector's metrics/genai pipeline with the built otelcol: validated, then fed an OTLP/JSON
 * token histogram and a cost counter, which must come out on its Prometheus endpoint.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePort } from '../support/ports.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const RULES = 'prometheus/model-calls-alerts.yml';
const TESTS = 'prometheus/model-calls-alerts.test.yml';
const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) => {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', env, timeout: 120_000 });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
};

/** promtool test rules on a copy of the rules with `from` replaced by `to`. */
function testWithChange(from: string, to: string) {
  const script = `d=$(mktemp -d) && sed 's/${from}/${to}/' ${RULES} > "$d/model-calls-alerts.yml" && cp ${TESTS} "$d/" && promtool test rules "$d/model-calls-alerts.test.yml"; rc=$?; rm -rf "$d"; exit $rc`;
  return run('bash', ['-c', script]);
}

describe('model-call alert rules (promtool)', () => {
  it('check rules and test rules pass', () => {
    expect(run('promtool', ['check', 'rules', RULES]).ok).toBe(true);
    const r = run('promtool', ['test', 'rules', TESTS]);
    expect(r.ok, r.out).toBe(true);
  });

  it('every rule has a firing and a non-firing test', () => {
    const rules = (parse(readFileSync(join(ROOT, RULES), 'utf8')) as { groups: { rules: { alert: string }[] }[] }).groups.flatMap((g) => g.rules.map((r) => r.alert));
    const tests = (parse(readFileSync(join(ROOT, TESTS), 'utf8')) as { tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[] }).tests.flatMap((t) => t.alert_rule_test ?? []);
    expect(rules.sort()).toEqual(['ClaudeModelCallErrorRateHigh', 'ClaudeSessionOverBudget', 'ClaudeSpendRateHigh']);
    for (const alert of rules) {
      expect(tests.some((t) => t.alertname === alert && (t.exp_alerts ?? []).length > 0), `${alert} fires`).toBe(true);
      expect(tests.some((t) => t.alertname === alert && (t.exp_alerts ?? []).length === 0), `${alert} silent`).toBe(true);
    }
  });

  it.each([
    ['spend threshold', '[[]1h[]])) > 20$', '[1h])) > 40', 'ClaudeSpendRateHigh'],
    ['session budget', 'max_cost_usd) > 10$', 'max_cost_usd) > 20', 'ClaudeSessionOverBudget'],
    ['error-rate threshold', ') > 0.1$', ') > 0.3', 'ClaudeModelCallErrorRateHigh'],
    ['error floor', '>= 5$', '>= 1', 'ClaudeModelCallErrorRateHigh'],
  ])('the tests fail when the %s changes', (_what, from, to, alert) => {
    const r = testWithChange(from, to);
    expect(r.ok).toBe(false);
    expect(r.out).toContain(alert);
  });

  it('prometheus.yml loads the rules', () => {
    const r = run('promtool', ['check', 'config', 'prometheus/prometheus.yml']);
    expect(r.out).toContain(RULES);
    expect(r.ok, r.out).toBe(true);
  });
});

function collectorBinary(): string {
  const r = spawnSync('bash', [join(ROOT, 'scripts/build-collector.sh')], { encoding: 'utf8', timeout: 30 * 60_000 });
  const path = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !existsSync(path)) throw new Error(`no collector binary: ${r.stderr.slice(-2000)}`);
  return path;
}

describe('collector metrics/genai pipeline (built otelcol)', () => {
  const state = mkdtempSync(join(tmpdir(), 'claude-otel-genai-'));
  const env: NodeJS.ProcessEnv = { ...process.env, CLAUDE_OTEL_STACK_DIR: state, CLAUDE_OTEL_STACK_SERVICES: 'otelcol' };
  const stack = (cmd: string) => spawnSync('bash', [join(ROOT, 'scripts/stack.sh'), cmd], { env, encoding: 'utf8', timeout: 120_000 });

  beforeAll(async () => {
    env.OTELCOL_BIN = collectorBinary();
    for (const key of ['OTELCOL_OTLP_GRPC_PORT', 'OTELCOL_OTLP_HTTP_PORT', 'OTELCOL_HEALTH_PORT', 'OTELCOL_METRICS_PORT', 'OTELCOL_PROMETHEUS_PORT', 'JAEGER_OTLP_GRPC_PORT', 'SINK_PORT']) {
      env[key] = String(await freePort());
    }
    const up = stack('up');
    if (up.status !== 0) throw new Error(`stack.sh up failed:\n${up.stdout}\n${up.stderr}`);
  }, 30 * 60_000);

  afterAll(() => {
    stack('down');
    rmSync(state, { recursive: true, force: true });
  });

  it('validates', () => {
    const r = run(env.OTELCOL_BIN!, ['validate', '--config', 'otel-collector/config.yaml']);
    expect(r.ok, r.out).toBe(true);
  });

  it('turns OTLP token and cost metrics into Prometheus series with their bounded labels', async () => {
    const now = String(BigInt(Date.now()) * 1_000_000n);
    const start = String(BigInt(Date.now() - 60_000) * 1_000_000n);
    const labels = (extra: Record<string, string>) =>
      Object.entries({ 'gen_ai.request.model': 'claude-opus-5-5', 'claude_code.agent.type': 'main', 'claude_code.project': 'demo', ...extra }).map(([key, v]) => ({ key, value: { stringValue: v } }));
    const body = {
      resourceMetrics: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }] },
        scopeMetrics: [{
          scope: { name: 'claude-otel-bridge' },
          metrics: [
            { name: 'gen_ai.client.token.usage', unit: '{token}', histogram: { aggregationTemporality: 2, dataPoints: [{ attributes: labels({ 'gen_ai.token.type': 'input' }), startTimeUnixNano: start, timeUnixNano: now, count: '2', sum: 1234, bucketCounts: ['0', '1', '1'], explicitBounds: [256, 1024] }] } },
            { name: 'claude_code.cost.usd', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ attributes: labels({}), startTimeUnixNano: start, timeUnixNano: now, asDouble: 0.0107 }] } },
          ],
        }],
      }],
    };
    const res = await fetch(`http://127.0.0.1:${env.OTELCOL_OTLP_HTTP_PORT}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    let text = '';
    for (let i = 0; i < 50 && !text.includes('claude_code_cost_usd'); i++) {
      await new Promise((r) => setTimeout(r, 200));
      text = await (await fetch(`http://127.0.0.1:${env.OTELCOL_PROMETHEUS_PORT}/metrics`)).text();
    }
    const lines = text.split('\n');
    const token = lines.find((l) => l.startsWith('gen_ai_client_token_usage') && l.includes('_sum'));
    expect(token).toMatch(/gen_ai_request_model="claude-opus-5-5"/);
    expect(token).toMatch(/gen_ai_token_type="input"/);
    expect(token?.endsWith(' 1234')).toBe(true);
    const cost = lines.find((l) => l.startsWith('claude_code_cost_usd'));
    expect(cost).toMatch(/claude_code_project="demo"/);
    expect(cost?.endsWith(' 0.0107')).toBe(true);
  });
});
