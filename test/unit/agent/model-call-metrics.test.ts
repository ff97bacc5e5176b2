// The model-call metrics (src/agent/model-call-metrics.ts) as a collection sees them: per label set,
// the token histograms take every call, the token, cost and unpriced counters report the sums of
// that label set's calls (kept as plain sums and observed at collection), a kind with no tokens and
// a label set with no priced call report nothing.
import { MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { createModelCallMetrics } from '../../../src/agent/model-call-metrics.js';
import type { ModelCall } from '../../../src/model-calls/assembler.js';

class TestReader extends MetricReader {
  protected async onForceFlush() {}
  protected async onShutdown() {}
}

const call = (model: string, usage: Partial<ModelCall['usage']>, ms = 2_000): ModelCall => ({
  sessionId: 's', responseId: `r-${Math.random()}`, requestModel: model, startMs: 1_000, endMs: 1_000 + ms, toolUseIds: [],
  usage: { input: 0, output: 0, cacheRead: 0, cacheCreation: 0, cacheCreation1h: 0, ...usage },
});

async function collected(reader: TestReader) {
  const { resourceMetrics } = await reader.collect();
  const out: Record<string, Array<{ attrs: Record<string, unknown>; value: unknown }>> = {};
  for (const m of resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)) {
    out[m.descriptor.name] = (m.dataPoints as DataPoint<number | Histogram>[]).map((p) => ({ attrs: p.attributes, value: p.value }));
  }
  return out;
}

describe('createModelCallMetrics', () => {
  it('reports per label set what its calls add up to, and nothing for what did not happen', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const meter = provider.getMeter('test');
    const m = createModelCallMetrics(meter, { reader: { lines: 0, bytes: 0, malformed: 0, oversized: 0, shrunk: 0 }, processor: { otherTypes: {}, apiErrors: 0 }, maxOpenSessionCost: () => 0 });
    const main = { agentType: 'main', project: 'web' };
    const sub = { agentType: 'Explore', project: 'web' };
    m.call(call('claude-opus-5-5', { input: 10, output: 20, cacheRead: 300 }), 0.5, main);
    m.call(call('claude-opus-5-5', { input: 1, output: 2, cacheCreation: 40 }, 500), 0.25, main);
    m.call(call('claude-haiku-9', { input: 7, output: 8 }), undefined, sub);
    const got = await collected(reader);

    const base = (model: string, l: typeof main) => ({ 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': model, 'claude_code.agent.type': l.agentType, 'claude_code.project': l.project });
    const opus = base('claude-opus-5-5', main);
    const haiku = base('claude-haiku-9', sub);
    expect(got['claude_code.token.usage']).toEqual(expect.arrayContaining([
      { attrs: { ...opus, 'gen_ai.token.type': 'input' }, value: 11 },
      { attrs: { ...opus, 'gen_ai.token.type': 'cache_read' }, value: 300 },
      { attrs: { ...opus, 'gen_ai.token.type': 'cache_creation' }, value: 40 },
      { attrs: { ...opus, 'gen_ai.token.type': 'output' }, value: 22 },
      { attrs: { ...haiku, 'gen_ai.token.type': 'input' }, value: 7 },
      { attrs: { ...haiku, 'gen_ai.token.type': 'output' }, value: 8 },
    ]));
    expect(got['claude_code.token.usage']).toHaveLength(6); // haiku had no cache tokens
    expect(got['claude_code.cost.usd']).toEqual([{ attrs: opus, value: 0.75 }]);
    expect(got['claude_code.model_calls.unpriced']).toEqual([{ attrs: haiku, value: 1 }]);

    const hist = (name: string, attrs: Record<string, unknown>) => got[name]!.find((p) => JSON.stringify(p.attrs) === JSON.stringify(attrs))!.value as Histogram;
    const opusInput = hist('gen_ai.client.token.usage', { ...opus, 'gen_ai.token.type': 'input' });
    expect([opusInput.count, opusInput.sum]).toEqual([2, 310 + 41]);
    const opusDuration = hist('gen_ai.client.operation.duration', opus);
    expect([opusDuration.count, opusDuration.sum]).toEqual([2, 2.5]);

    // Sums keep growing across collections (cumulative counters).
    m.call(call('claude-opus-5-5', { input: 4, output: 1 }), 0.25, main);
    const again = await collected(reader);
    expect(again['claude_code.cost.usd']).toEqual([{ attrs: opus, value: 1 }]);
    expect(again['claude_code.token.usage']!.find((p) => p.attrs['gen_ai.token.type'] === 'input' && p.attrs['gen_ai.request.model'] === 'claude-opus-5-5')!.value).toBe(15);
    await provider.shutdown();
  });
});
