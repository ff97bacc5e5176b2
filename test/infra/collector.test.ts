/**
 * The collector distribution and its configs, for real:
 *  - `otelcol validate` on otel-collector/config.yaml and every example (overlay or standalone),
 *  - the builder manifest holds exactly the components the configs use (gateway.yaml and
 *    backend.yaml included),
 *  - `jaeger validate` on jaeger/config.yaml,
 *  - live: Jaeger + collector started by scripts/stack.sh on free ports in a temp dir,
 *    an OTLP/HTTP JSON trace with tool spans (some failing) is POSTed, then
 *    (a) span metrics with our dimensions appear on the prometheus exporter,
 *    (b) Jaeger's query API returns the trace,
 *    (c) the sink route receives OTLP *JSON* (a stand-in sink that is down at first,
 *        so the persistent queue + retry path is exercised).
 * Binaries come from scripts/build-collector.sh / build-jaeger.sh (built if missing).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePort } from '../support/ports.js';
import { eventually } from '../support/eventually.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const CONFIG = join(ROOT, 'otel-collector/config.yaml');
const EXAMPLES = join(ROOT, 'otel-collector/examples');
const BUILD_TIMEOUT = 30 * 60_000;

/** Locates the binary via the script; builds it when absent (CI builds first). */
function binary(script: 'build-collector.sh' | 'build-jaeger.sh'): string {
  const run = spawnSync('bash', [join(ROOT, 'scripts', script)], {
    encoding: 'utf8',
    timeout: BUILD_TIMEOUT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const path = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !existsSync(path)) {
    throw new Error(
      `scripts/${script} did not produce a binary (exit ${run.status}). ` +
        `Run 'bash scripts/${script}' and read its log.\n${run.stderr.slice(-3000)}`,
    );
  }
  return path;
}

function validate(bin: string, configs: string[], env: NodeJS.ProcessEnv = {}): { ok: boolean; out: string } {
  const r = spawnSync(bin, ['validate', ...configs.flatMap((c) => ['--config', c])], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

/** Examples say in their first line whether they stand alone or overlay config.yaml. */
function exampleConfigs(file: string): string[] {
  const head = readFileSync(join(EXAMPLES, file), 'utf8').split('\n')[0] ?? '';
  if (/^# usage: standalone/.test(head)) return [join(EXAMPLES, file)];
  if (/^# usage: overlay/.test(head)) return [CONFIG, join(EXAMPLES, file)];
  throw new Error(`${file}: first line must be '# usage: standalone' or '# usage: overlay'`);
}

const examples = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort();

describe('collector configs', () => {
  let otelcol: string;
  beforeAll(() => {
    otelcol = binary('build-collector.sh');
  }, BUILD_TIMEOUT);

  it('validates otel-collector/config.yaml', () => {
    const r = validate(otelcol, [CONFIG]);
    expect(r.out).toBe('');
    expect(r.ok).toBe(true);
  });

  it('has example configs', () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
  });

  it.each(examples)('validates example %s', (file) => {
    const r = validate(otelcol, exampleConfigs(file));
    expect(r.out).toBe('');
    expect(r.ok).toBe(true);
  });

  it('rejects a broken config (validate is not a no-op)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otelcol-bad-'));
    try {
      const bad = join(dir, 'bad.yaml');
      const text = readFileSync(CONFIG, 'utf8').replace('exporters: [otlp_grpc/jaeger, span_metrics, routing]', 'exporters: [otlp/nowhere]');
      expect(text).toContain('otlp/nowhere');
      writeFileSync(bad, text);
      const r = validate(otelcol, [bad]);
      expect(r.ok).toBe(false);
      expect(r.out).toMatch(/otlp\/nowhere/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('validates jaeger/config.yaml with the Jaeger binary', () => {
    const r = validate(binary('build-jaeger.sh'), [join(ROOT, 'jaeger/config.yaml')]);
    expect(r.ok, r.out).toBe(true);
  }, BUILD_TIMEOUT);

  it('builder manifest holds exactly the components the configs use', () => {
    const built = parse(execFileSync(otelcol, ['components'], { encoding: 'utf8' })) as Record<
      string,
      { name: string; module: string }[]
    >;
    const kinds = ['receivers', 'processors', 'exporters', 'connectors', 'extensions'] as const;
    const used: Record<string, Set<string>> = Object.fromEntries(kinds.map((k) => [k, new Set<string>()]));
    // The single-collector config, the team tier (test/infra/gateway.test.ts validates those two) and the examples.
    const tier = ['gateway.yaml', 'backend.yaml'].map((f) => join(ROOT, 'otel-collector', f));
    for (const file of [CONFIG, ...tier, ...examples.map((f) => join(EXAMPLES, f))]) {
      const cfg = parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown> | undefined>;
      for (const k of kinds) for (const id of Object.keys(cfg[k] ?? {})) used[k]!.add(id.split('/')[0]!);
    }
    for (const k of kinds) {
      const have = new Set((built[k] ?? []).map((c) => c.name));
      expect([...have].sort(), k).toEqual([...used[k]!].sort());
    }
    // One release for core and contrib, equal to the dist version.
    const version = (parse(readFileSync(join(ROOT, 'otel-collector/builder-config.yaml'), 'utf8')) as {
      dist: { version: string };
    }).dist.version;
    for (const k of kinds) for (const c of built[k] ?? []) expect(c.module.endsWith(` v${version}`), c.module).toBe(true);
  });
});

// ------------------------------------------------------------------ live pipeline

interface Received {
  path: string;
  contentType: string;
  authorization: string;
  body: string;
}

function startSink(port: number, received: Received[]): Promise<Server> {
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        contentType: String(req.headers['content-type'] ?? ''),
        authorization: String(req.headers.authorization ?? ''),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

const waitFor = <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>) => eventually(what, timeoutMs, probe, 500);

const attr = (key: string, value: string | number) =>
  typeof value === 'number'
    ? { key, value: { intValue: String(value) } }
    : { key, value: { stringValue: value } };

/** One session: root, one turn, tool spans (Bash ok, Bash exit 1, Read ok, Edit denied). */
function sessionTrace(traceId: string) {
  const now = BigInt(Date.now()) * 1_000_000n;
  const ms = (n: number) => BigInt(n) * 1_000_000n;
  const id = () => randomBytes(8).toString('hex');
  const root = id();
  const turn = id();
  const span = (
    name: string,
    parent: string,
    startMs: number,
    durMs: number,
    attrs: ReturnType<typeof attr>[],
    error?: string,
  ) => ({
    traceId,
    spanId: id(),
    parentSpanId: parent,
    name,
    kind: 1,
    startTimeUnixNano: String(now - ms(startMs)),
    endTimeUnixNano: String(now - ms(startMs) + ms(durMs)),
    attributes: attrs,
    status: error ? { code: 2, message: error } : {},
  });
  const tool = (name: string, outcome: string, perf: string, errorType?: string) => [
    attr('claude_code.span.kind', 'tool'),
    attr('gen_ai.operation.name', 'execute_tool'),
    attr('gen_ai.tool.name', name),
    attr('gen_ai.tool.call.id', `toolu_${id()}`),
    attr('claude_code.tool.outcome', outcome),
    attr('claude_code.tool.performance_category', perf),
    ...(errorType ? [attr('error.type', errorType)] : []),
  ];
  const spans = [
    { ...span('invoke_agent claude-code', '', 60_000, 59_000, [attr('claude_code.span.kind', 'session'), attr('gen_ai.operation.name', 'invoke_agent')]), parentSpanId: '', spanId: root },
    { ...span('claude_code.turn', root, 50_000, 40_000, [attr('claude_code.span.kind', 'turn'), attr('claude_code.turn.number', 1)]), spanId: turn },
    span('execute_tool Bash', turn, 45_000, 1_200, tool('Bash', 'success', 'normal')),
    span('execute_tool Bash', turn, 40_000, 3_000, tool('Bash', 'error', 'slow', 'exit_code_1'), 'exit code 1'),
    span('execute_tool Read', turn, 35_000, 20, [
      ...tool('Read', 'success', 'fast'),
      attr('claude_code.tool.output', 'aws_access_key_id = AKIAABCDEFGHIJKLMNOP'),
    ]),
    span('execute_tool Edit', turn, 30_000, 5, tool('Edit', 'denied', 'fast', 'permission_denied'), 'denied'),
  ];
  return {
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', 'claude-code')] },
        scopeSpans: [{ scope: { name: 'claude-otel-bridge' }, spans }],
      },
    ],
  };
}

describe('live pipeline: collector -> span metrics, Jaeger, sink', () => {
  const state = mkdtempSync(join(tmpdir(), 'claude-otel-stack-'));
  const env: NodeJS.ProcessEnv = { ...process.env, CLAUDE_OTEL_STACK_DIR: state, CLAUDE_OTEL_STACK_SERVICES: 'jaeger otelcol' };
  // No token given: stack.sh generates one in the state dir and hands it to the collector.
  delete env.CLAUDE_OTEL_SINK_TOKEN;
  const received: Received[] = [];
  let sink: Server | undefined;
  const stack = (cmd: string) =>
    spawnSync('bash', [join(ROOT, 'scripts/stack.sh'), cmd], { env, encoding: 'utf8', timeout: 120_000 });

  beforeAll(async () => {
    env.OTELCOL_BIN = binary('build-collector.sh');
    env.JAEGER_BIN = binary('build-jaeger.sh');
    for (const key of [
      'OTELCOL_OTLP_GRPC_PORT', 'OTELCOL_OTLP_HTTP_PORT', 'OTELCOL_HEALTH_PORT', 'OTELCOL_METRICS_PORT',
      'OTELCOL_PROMETHEUS_PORT', 'JAEGER_OTLP_GRPC_PORT', 'JAEGER_OTLP_HTTP_PORT', 'JAEGER_QUERY_HTTP_PORT',
      'JAEGER_QUERY_GRPC_PORT', 'JAEGER_HEALTH_PORT', 'JAEGER_METRICS_PORT', 'SINK_PORT',
    ]) {
      env[key] = String(await freePort());
    }
    env.OTELCOL_SPANMETRICS_FLUSH_INTERVAL = '1s';
    const up = stack('up');
    if (up.status !== 0) throw new Error(`stack.sh up failed:\n${up.stdout}\n${up.stderr}`);
  }, BUILD_TIMEOUT);

  afterAll(async () => {
    stack('down');
    await new Promise<void>((r) => (sink ? sink.close(() => r()) : r()));
    rmSync(state, { recursive: true, force: true });
  });

  const traceId = randomBytes(16).toString('hex');

  it('accepts an OTLP/HTTP JSON trace', async () => {
    const res = await fetch(`http://127.0.0.1:${env.OTELCOL_OTLP_HTTP_PORT}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(sessionTrace(traceId)),
    });
    expect(res.status).toBe(200);
  });

  it('exposes span metrics with the trace-model dimensions', async () => {
    const url = `http://127.0.0.1:${env.OTELCOL_PROMETHEUS_PORT}/metrics`;
    // A new series is first exported at 0 (so rate()/increase() see the first call), then 1.
    const text = await waitFor('span metrics for Bash', 30_000, async () => {
      const t = await (await fetch(url)).text();
      return /traces_span_metrics_calls_total\{[^}]*gen_ai_tool_name="Bash"[^}]*status_code="STATUS_CODE_ERROR"[^}]*\} 1$/m.test(t)
        ? t
        : undefined;
    });
    const lines = text.split('\n').filter((l) => l.startsWith('traces_span_metrics_calls_total{'));
    const failedBash = lines.find((l) => l.includes('gen_ai_tool_name="Bash"') && l.includes('status_code="STATUS_CODE_ERROR"'));
    expect(failedBash).toBeDefined();
    for (const label of [
      'claude_code_span_kind="tool"',
      'gen_ai_operation_name="execute_tool"',
      'error_type="exit_code_1"',
      'claude_code_tool_performance_category="slow"',
      'span_name="execute_tool Bash"',
    ]) {
      expect(failedBash).toContain(label);
    }
    expect(failedBash!.trim().split(' ').pop(), failedBash).toBe('1');
    expect(lines.some((l) => l.includes('gen_ai_tool_name="Edit"') && l.includes('error_type="permission_denied"'))).toBe(true);
    expect(lines.some((l) => l.includes('claude_code_span_kind="turn"'))).toBe(true);
    // Histogram in milliseconds, buckets up to 30 minutes.
    expect(text).toMatch(/traces_span_metrics_duration_milliseconds_bucket\{[^}]*le="1\.8e\+06"/);
  });

  it("Jaeger's query API returns the trace", async () => {
    const base = `http://127.0.0.1:${env.JAEGER_QUERY_HTTP_PORT}`;
    const trace = await waitFor('trace in Jaeger', 45_000, async () => {
      const body = (await (await fetch(`${base}/api/traces?service=claude-code&limit=20&lookback=1h`)).json()) as {
        data: { traceID: string; spans: { operationName: string; tags: { key: string; value: unknown }[] }[] }[];
      };
      return body.data?.find((t) => t.traceID === traceId);
    });
    expect(trace.spans).toHaveLength(6);
    const bash = trace.spans.filter((s) => s.operationName === 'execute_tool Bash');
    expect(bash).toHaveLength(2);
    expect(bash.some((s) => s.tags.some((t) => t.key === 'error.type' && t.value === 'exit_code_1'))).toBe(true);
  });

  it('masks secret-looking values (redaction processor)', async () => {
    const base = `http://127.0.0.1:${env.JAEGER_QUERY_HTTP_PORT}`;
    const body = (await (await fetch(`${base}/api/traces/${traceId}`)).json()) as {
      data: { spans: { operationName: string; tags: { key: string; value: unknown }[] }[] }[];
    };
    const read = body.data[0]!.spans.find((x) => x.operationName === 'execute_tool Read')!;
    const output = read.tags.find((t) => t.key === 'claude_code.tool.output')?.value;
    expect(String(output)).not.toContain('AKIAABCDEFGHIJKLMNOP');
    expect(String(output)).toContain('****');
  });

  it('routes resources with claude_otel.tap=file to the local archive too', async () => {
    const tapped = randomBytes(16).toString('hex');
    const trace = sessionTrace(tapped);
    trace.resourceSpans[0]!.resource.attributes.push(attr('claude_otel.tap', 'file'));
    const res = await fetch(`http://127.0.0.1:${env.OTELCOL_OTLP_HTTP_PORT}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(trace),
    });
    expect(res.status).toBe(200);
    const file = join(state, 'otelcol/storage/tap/traces.jsonl');
    await waitFor('tap archive', 20_000, async () =>
      existsSync(file) && readFileSync(file, 'utf8').includes(tapped) ? true : undefined,
    );
    expect(readFileSync(file, 'utf8')).not.toContain(traceId);
  });

  it('queues for the sink while it is down and delivers OTLP JSON once it is up', async () => {
    sink = await startSink(Number(env.SINK_PORT), received);
    const got = await waitFor('sink delivery', 60_000, async () =>
      received.find((r) => r.path === '/v1/traces' && r.body.includes(traceId)),
    );
    expect(got.contentType).toContain('application/json');
    // The collector authenticates with the token stack.sh generated (mode 600).
    const token = readFileSync(join(state, 'sink.token'), 'utf8');
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    expect(statSync(join(state, 'sink.token')).mode & 0o077).toBe(0);
    expect(got.authorization).toBe(`Bearer ${token}`);
    const body = JSON.parse(got.body) as { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] };
    const spans = body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    expect(spans.length).toBeGreaterThanOrEqual(6);
  });

  it('sends logs to the sink as OTLP JSON', async () => {
    const res = await fetch(`http://127.0.0.1:${env.OTELCOL_OTLP_HTTP_PORT}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceLogs: [
          {
            resource: { attributes: [attr('service.name', 'claude-code')] },
            scopeLogs: [
              {
                scope: { name: 'claude-otel-bridge' },
                logRecords: [
                  {
                    timeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
                    traceId,
                    body: { stringValue: 'Notification' },
                    attributes: [attr('event.name', 'claude_code.hook.Notification')],
                  },
                ],
              },
            ],
          },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const got = await waitFor('log delivery', 30_000, async () =>
      received.find((r) => r.path === '/v1/logs' && r.body.includes('claude_code.hook.Notification')),
    );
    expect(got.contentType).toContain('application/json');
  });

  it('stack.sh status reports both services healthy', () => {
    const st = stack('status');
    expect(st.stdout).toMatch(/jaeger: running, healthy/);
    expect(st.stdout).toMatch(/otelcol: running, healthy/);
  });
});
