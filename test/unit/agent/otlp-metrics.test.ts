// The agent's OTLP metrics push (telemetry.ts + otlp-metrics.ts), against a real HTTP receiver: only
// the model-call scope leaves, with bounded labels and an instance id; nothing without an endpoint.
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { agentInstanceId, metricsUrlFor } from '../../../src/agent/exporter.js';
import { createAgentMetrics } from '../../../src/agent/metrics.js';
import { createModelCallMetrics } from '../../../src/agent/model-call-metrics.js';
import { startTelemetry, type TelemetryOptions } from '../../../src/agent/telemetry.js';
import type { Config } from '../../../src/config/schema.js';
import type { ModelCall } from '../../../src/model-calls/assembler.js';
import { startOtlpReceiver } from '../../support/otlp-receiver.js';

const receivers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
});

const options = (extra: Partial<TelemetryOptions>): TelemetryOptions => ({
  serviceName: 'claude-code', resourceAttributes: {},
  localStore: new InMemorySpanExporter(), keepLocalCopy: false, flushDelayMs: 10, maxExportBatchSize: 10, maxQueueSize: 100,
  initialWatermark: 0, bufferMaxBytes: 1 << 20, retryMaxBackoffMs: 1000, hooks: { onExported() {}, onFailed() {}, onDropped() {} }, ...extra,
});

/** Traces and logs to a port nobody listens on: only the metrics requests are under test. */
const nowhere = { url: 'http://127.0.0.1:9/v1/traces', timeoutMillis: 500 };
/** The gauge sources of the model-call metrics, idle but for the open-session cost. */
const sources = (maxOpenSessionCost: number) => ({ reader: { lines: 0, bytes: 0, malformed: 0, oversized: 0 } as never, processor: { otherTypes: {}, apiErrors: 0 }, maxOpenSessionCost: () => maxOpenSessionCost });

const call = (usage: ModelCall['usage'], model: string): ModelCall => ({
  sessionId: 'sess-1', responseId: 'msg_1', promptId: 'p-1', requestModel: model, startMs: 1_000, endMs: 3_500, usage, toolUseIds: [],
});

function record(meter: ReturnType<typeof startTelemetry>) {
  const gauges = { openSpans: () => 1, openSessions: () => 1, spoolBacklog: () => 0, exportPending: () => 0, journalBytes: () => 0, quarantineEntries: () => 0, exportBufferBytes: () => 0 };
  createAgentMetrics(meter.meter, gauges).countEvent('Stop', 'http');
  const m = createModelCallMetrics(meter.modelCallMeter, sources(0.5), meter.meter);
  m.call(call({ input: 7, output: 13, cacheRead: 100, cacheCreation: 20 } as ModelCall['usage'], 'claude-opus-5-5'), 0.25, { agentType: 'main', project: 'demo' });
  m.call(call({ input: 3, output: 4, cacheRead: 0, cacheCreation: 0 } as ModelCall['usage'], 'claude-haiku-5-5'), 0.125, { agentType: 'Explore', project: 'demo' });
}

describe('OTLP metrics push', () => {
  it('pushes the model-call scope only, at shutdown at the latest, with bounded labels', async () => {
    const rx = await startOtlpReceiver();
    receivers.push(rx);
    const t = startTelemetry(options({ otlp: { traces: nowhere, logs: nowhere, metrics: { url: `${rx.url}/v1/metrics`, timeoutMillis: 2000 } }, metricsExportIntervalMs: 60_000, metricsInstanceId: 'agent-a' }));
    record(t);
    // The agent's own /metrics serves both providers' metrics, each series once.
    const served = (await t.prometheus.collect()).resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name));
    expect(served).toEqual(expect.arrayContaining(['claude_otel.events', 'claude_code.cost.usd', 'gen_ai.client.token.usage']));
    expect(served.length).toBe(new Set(served).size);
    await t.shutdown();
    expect(rx.metrics.length).toBeGreaterThan(0);
    expect(new Set(rx.metrics.map((p) => p.scope))).toEqual(new Set(['claude-otel-bridge/model-calls']));
    expect(rx.metrics.some((p) => p.name.startsWith('claude_otel.'))).toBe(false);
    const cost = rx.metrics.filter((p) => p.name === 'claude_code.cost.usd');
    expect(cost.map((p) => [p.attributes['gen_ai.request.model'], p.value]).sort()).toEqual([['claude-haiku-5-5', 0.125], ['claude-opus-5-5', 0.25]]);
    const input = rx.metrics.find((p) => p.name === 'gen_ai.client.token.usage' && p.attributes['gen_ai.token.type'] === 'input' && p.attributes['gen_ai.request.model'] === 'claude-opus-5-5');
    expect([input?.value, input?.count]).toEqual([127, 1]);
    const duration = rx.metrics.find((p) => p.name === 'gen_ai.client.operation.duration' && p.attributes['claude_code.agent.type'] === 'Explore');
    expect([duration?.value, duration?.count]).toEqual([2.5, 1]);
    const keys = new Set(rx.metrics.flatMap((p) => Object.keys(p.attributes)));
    expect([...keys].sort()).toEqual(['claude_code.agent.type', 'claude_code.project', 'gen_ai.operation.name', 'gen_ai.provider.name', 'gen_ai.request.model', 'gen_ai.token.type']);
    expect(rx.metrics.every((p) => p.resource['service.instance.id'] === 'agent-a' && p.resource['service.name'] === 'claude-code')).toBe(true);
  });

  it('a scrape between two records takes nothing from the push (both read one cumulative aggregation, whatever the env asks)', async () => {
    const rx = await startOtlpReceiver();
    receivers.push(rx);
    // delta would hand each consumer only what is new since the other one's collect
    process.env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE = 'delta';
    let t: ReturnType<typeof startTelemetry>;
    try {
      t = startTelemetry(options({ otlp: { traces: nowhere, logs: nowhere, metrics: { url: `${rx.url}/v1/metrics`, timeoutMillis: 2000 } }, metricsExportIntervalMs: 60_000 }));
    } finally {
      delete process.env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE;
    }
    const m = createModelCallMetrics(t.modelCallMeter, sources(0), t.meter);
    const usage = { input: 1, output: 2, cacheRead: 0, cacheCreation: 0 } as ModelCall['usage'];
    const costOf = async () => (await t.prometheus.collect()).resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((x) => x.descriptor.name === 'claude_code.cost.usd')?.dataPoints[0]?.value;
    m.call(call(usage, 'claude-opus-5-5'), 0.5, { agentType: 'main', project: 'demo' });
    expect(await costOf()).toBe(0.5);
    m.call(call(usage, 'claude-opus-5-5'), 0.25, { agentType: 'main', project: 'demo' });
    expect(await costOf()).toBe(0.75);
    await t.shutdown();
    expect(rx.metrics.filter((p) => p.name === 'claude_code.cost.usd').map((p) => p.value)).toEqual([0.75]);
  });

  it('sends nothing without a metrics endpoint, and the agent /metrics still has every scope', async () => {
    const rx = await startOtlpReceiver();
    receivers.push(rx);
    const t = startTelemetry(options({}));
    record(t);
    const { resourceMetrics } = await t.prometheus.collect();
    const names = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name));
    expect(names).toEqual(expect.arrayContaining(['claude_otel.events', 'claude_code.cost.usd', 'gen_ai.client.token.usage']));
    await t.shutdown();
    expect(rx.requests()).toBe(0);
  });

  it('metrics go where the traces go, never to a guessed URL', () => {
    const cfg = (e: Partial<Config['export']>) => ({ export: e }) as Config;
    expect(metricsUrlFor(cfg({}))).toBeUndefined();
    expect(metricsUrlFor(cfg({ otlpEndpoint: 'http://c:4318/' }))).toBe('http://c:4318/v1/metrics');
    expect(metricsUrlFor(cfg({ otlpTracesEndpoint: 'http://c:4318/v1/traces' }))).toBe('http://c:4318/v1/metrics');
    expect(metricsUrlFor(cfg({ otlpTracesEndpoint: 'http://c:9999/ingest' }))).toBeUndefined();
    expect(metricsUrlFor(cfg({ otlpLogsEndpoint: 'http://c:4318/v1/logs' }))).toBeUndefined();
    expect(agentInstanceId('/h/a')).toBe(agentInstanceId('/h/a'));
    expect(agentInstanceId('/h/a')).not.toBe(agentInstanceId('/h/b'));
  });
});
