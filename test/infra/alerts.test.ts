/**
 * End-to-end alerting: failing tool spans -> collector (span_metrics) -> real
 * Prometheus (1s scrape/eval) -> real Alertmanager -> a webhook receiver in this test.
 *
 * Windows: Prometheus rule files have no templating, so this test derives a fast copy
 * of prometheus/alerts.yml in which ONLY the range windows ([10m] -> [20s]) and the
 * `for:` durations (-> 2s) are rewritten; expressions, thresholds and floors are the
 * production ones. The production windows themselves are covered by promtool unit
 * tests (prometheus/alerts.test.yml). The stack is started by scripts/stack.sh with
 * free ports in a temp dir (CLAUDE_OTEL_STACK_RULES points it at the fast copy).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD_TIMEOUT = 30 * 60_000;

function collectorBinary(): string {
  const run = spawnSync('bash', [join(ROOT, 'scripts/build-collector.sh')], { encoding: 'utf8', timeout: BUILD_TIMEOUT });
  const path = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !existsSync(path)) {
    throw new Error(`scripts/build-collector.sh produced no binary (exit ${run.status}):\n${run.stderr.slice(-3000)}`);
  }
  return path;
}

function requireTool(name: string): void {
  if (spawnSync('bash', ['-c', `command -v ${name}`]).status !== 0) {
    throw new Error(`${name} is not installed: run 'bash scripts/install-deps.sh'`);
  }
}

/** The production rules with short windows; exported shape checked below. */
export function fastRules(text: string, window = '20s', forDuration = '2s'): string {
  return text.replace(/\[(\d+)([smhd])\]/g, `[${window}]`).replace(/^(\s+for:\s*)\S+/gm, `$1${forDuration}`);
}

interface Notification {
  status: string;
  alerts: { status: string; labels: Record<string, string> }[];
}

const attr = (key: string, value: string) => ({ key, value: { stringValue: value } });

function toolBatch(tool: string, total: number, failing: number) {
  const traceId = randomBytes(16).toString('hex');
  const now = BigInt(Date.now()) * 1_000_000n;
  const spans = Array.from({ length: total }, (_, i) => {
    const fail = i < failing;
    return {
      traceId,
      spanId: randomBytes(8).toString('hex'),
      name: `execute_tool ${tool}`,
      kind: 1,
      startTimeUnixNano: String(now - 50_000_000n),
      endTimeUnixNano: String(now),
      attributes: [
        attr('claude_code.span.kind', 'tool'),
        attr('gen_ai.operation.name', 'execute_tool'),
        attr('gen_ai.tool.name', tool),
        attr('claude_code.tool.outcome', fail ? 'error' : 'success'),
        attr('claude_code.tool.performance_category', 'fast'),
        ...(fail ? [attr('error.type', 'tool_error')] : []),
      ],
      status: fail ? { code: 2, message: 'failed' } : {},
    };
  });
  return {
    resourceSpans: [
      { resource: { attributes: [attr('service.name', 'claude-code')] }, scopeSpans: [{ scope: { name: 'alert-test' }, spans }] },
    ],
  };
}

describe('fast rule derivation', () => {
  it('rewrites only windows and for: durations', () => {
    const prod = readFileSync(join(ROOT, 'prometheus/alerts.yml'), 'utf8');
    const fast = fastRules(prod);
    expect(fast).not.toMatch(/\[\d+[mh]\]/);
    expect(fast).not.toMatch(/^\s+for:\s*(?!2s)\S+/m);
    // Thresholds and floors untouched.
    for (const s of ['> 0.2', '>= 10', '> 120000', '> 600000', '>= 3', '> 1000', '> 0.8']) expect(fast).toContain(s);
    const strip = (t: string) => t.replace(/\[[^\]]+\]/g, '[]').replace(/for:\s*\S+/g, 'for:');
    expect(strip(fast)).toBe(strip(prod));
  });
});

describe('live alert: tool error rate -> Prometheus -> Alertmanager -> webhook', () => {
  const state = mkdtempSync(join(tmpdir(), 'claude-otel-alerts-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CLAUDE_OTEL_STACK_DIR: state,
    CLAUDE_OTEL_STACK_SERVICES: 'otelcol prometheus alertmanager',
    PROMETHEUS_SCRAPE_INTERVAL: '1s',
    PROMETHEUS_EVAL_INTERVAL: '1s',
    ALERTMANAGER_GROUP_WAIT: '1s',
    OTELCOL_SPANMETRICS_FLUSH_INTERVAL: '1s',
  };
  const notifications: Notification[] = [];
  let webhook: Server;
  const stack = (cmd: string) =>
    spawnSync('bash', [join(ROOT, 'scripts/stack.sh'), cmd], { env, encoding: 'utf8', timeout: 120_000 });

  beforeAll(async () => {
    requireTool('prometheus');
    requireTool('prometheus-alertmanager');
    env.OTELCOL_BIN = collectorBinary();
    for (const key of [
      'OTELCOL_OTLP_GRPC_PORT', 'OTELCOL_OTLP_HTTP_PORT', 'OTELCOL_HEALTH_PORT', 'OTELCOL_METRICS_PORT',
      'OTELCOL_PROMETHEUS_PORT', 'PROMETHEUS_PORT', 'ALERTMANAGER_PORT', 'AGENT_METRICS_PORT', 'SINK_PORT',
      'JAEGER_OTLP_GRPC_PORT',
    ]) {
      env[key] = String(await freePort());
    }
    const hookPort = await freePort();
    env.ALERT_WEBHOOK_URL = `http://127.0.0.1:${hookPort}/alerts`;
    webhook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          notifications.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Notification);
        } catch {
          /* ignore non-JSON */
        }
        res.writeHead(200);
        res.end();
      });
    });
    await new Promise<void>((r) => webhook.listen(hookPort, '127.0.0.1', () => r()));

    const rules = join(state, 'alerts.fast.yml');
    writeFileSync(rules, fastRules(readFileSync(join(ROOT, 'prometheus/alerts.yml'), 'utf8')));
    env.CLAUDE_OTEL_STACK_RULES = rules;
    const up = stack('up');
    if (up.status !== 0) throw new Error(`stack.sh up failed:\n${up.stdout}\n${up.stderr}`);
  }, BUILD_TIMEOUT);

  afterAll(async () => {
    stack('down');
    await new Promise<void>((r) => (webhook ? webhook.close(() => r()) : r()));
    rmSync(state, { recursive: true, force: true });
  });

  const fired = (alertname: string, tool: string) =>
    notifications.some((n) =>
      n.alerts.some(
        (a) => a.status === 'firing' && a.labels.alertname === alertname && a.labels.gen_ai_tool_name === tool,
      ),
    );

  it('fires ClaudeToolErrorRateHigh for the failing tool only and delivers it to the webhook', async () => {
    const otlp = `http://127.0.0.1:${env.OTELCOL_OTLP_HTTP_PORT}/v1/traces`;
    const post = async (body: unknown) => {
      const res = await fetch(otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(200);
    };
    const deadline = Date.now() + 120_000;
    let batches = 0;
    while (!fired('ClaudeToolErrorRateHigh', 'Bash') && Date.now() < deadline) {
      await post(toolBatch('Bash', 10, 5)); // 50% errors
      await post(toolBatch('Read', 10, 1)); // 10% errors: below the 20% threshold
      batches++;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(fired('ClaudeToolErrorRateHigh', 'Bash'), `no webhook notification after ${batches} batches`).toBe(true);
    expect(fired('ClaudeToolErrorRateHigh', 'Read')).toBe(false);

    const note = notifications.find((n) => n.alerts.some((a) => a.labels.alertname === 'ClaudeToolErrorRateHigh'))!;
    const alert = note.alerts.find((a) => a.labels.alertname === 'ClaudeToolErrorRateHigh')!;
    expect(alert.labels).toMatchObject({ severity: 'warning', team: 'claude-otel', gen_ai_tool_name: 'Bash' });

    // Prometheus agrees.
    const api = (await (await fetch(`http://127.0.0.1:${env.PROMETHEUS_PORT}/api/v1/alerts`)).json()) as {
      data: { alerts: { labels: Record<string, string>; state: string }[] };
    };
    expect(
      api.data.alerts.some((a) => a.labels.alertname === 'ClaudeToolErrorRateHigh' && a.labels.gen_ai_tool_name === 'Bash' && a.state === 'firing'),
    ).toBe(true);
  }, 180_000);
});
