// Transcript records → chat spans, ledger and cost, over a real Claude Code 2.1.332 transcript
// (test/fixtures/claude-code-2.1.332/transcripts, recorded by scripts/record-transcript.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spanIdFor, spanKeys } from '../../src/model/ids.js';
import { createUsageLedger } from '../../src/model-calls/ledger.js';
import { createPricer, priceKey, PRICE_TABLE } from '../../src/model-calls/prices.js';
import { createModelCallProcessor } from '../../src/model-calls/processor.js';
import { usageAttributes } from '../../src/model-calls/spans.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'claude-code-2.1.332', 'transcripts');
const lines = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as {
  sessionId: string;
  totalCostUsd: number;
  responses: { agent: string; messageId: string; model: string; usage: Record<string, number>; toolUseIds: string[] }[];
};
const subFile = readdirSync(join(DIR, 'subagents'))[0]!;
const agentId = subFile.replace(/^agent-|\.jsonl$/g, '');
const S = expected.sessionId;
const root = spanIdFor(S, spanKeys.root());
const agentSpan = spanIdFor(S, spanKeys.agent(agentId));
const promptId = lines(join(DIR, 'session.jsonl')).find((r) => r.type === 'user' && r.promptId)!.promptId as string;
const turn = spanIdFor(S, spanKeys.turn(promptId));

function processAll(options: { withoutCostState?: boolean; capture?: (v: unknown) => string; prices?: Parameters<typeof createPricer>[0] } = {}) {
  const ledger = createUsageLedger();
  const p = createModelCallProcessor({ ledger, pricer: createPricer(options.prices), now: () => 1, ...(options.capture ? { capture: options.capture } : {}) });
  const main = lines(join(DIR, 'session.jsonl')).filter((r) => !(options.withoutCostState && r.type === 'cost-state'));
  const sub = lines(join(DIR, 'subagents', subFile));
  // As the agent sees them: the subagent's transcript is read (and flushed) at SubagentStop, before the main one ends.
  const done = [...p.records('main', S, undefined, main.slice(0, 20)), ...p.records('sub', S, agentId, sub), ...p.flush('sub'), ...p.records('main', S, undefined, main.slice(20)), ...p.flush('main')];
  return { ledger, p, done, spans: done.map((d) => d.span) };
}

const tokens = (u: Record<string, number>) => ({ in: u.input_tokens! + u.cache_read_input_tokens! + u.cache_creation_input_tokens!, out: u.output_tokens! });

describe('model calls from a real 2.1.332 transcript', () => {
  it('makes exactly one chat span per model response, whatever number of rows it spans', () => {
    const { spans } = processAll();
    expect(spans.map((s) => s.attributes['gen_ai.response.id']).sort()).toEqual(expected.responses.map((r) => r.messageId).sort());
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(spans.length);
  });

  it('puts main-agent calls under the turn of their prompt and subagent calls under the subagent', () => {
    const { spans } = processAll();
    for (const r of expected.responses) {
      const span = spans.find((s) => s.attributes['gen_ai.response.id'] === r.messageId)!;
      expect(span.parentSpanId).toBe(r.agent === 'subagent' ? agentSpan : turn);
      expect(span.name).toBe(`chat ${r.model}`);
      expect(span.spanId).toBe(spanIdFor(S, spanKeys.chat(r.messageId)));
      expect({ in: span.attributes['gen_ai.usage.input_tokens'], out: span.attributes['gen_ai.usage.output_tokens'] }).toEqual(tokens(r.usage));
      expect(span.attributes['gen_ai.usage.cache_read.input_tokens']).toBe(r.usage.cache_read_input_tokens);
      expect(span.attributes['gen_ai.usage.cache_creation.input_tokens']).toBe(r.usage.cache_creation_input_tokens);
      expect(span.endMs).toBeGreaterThanOrEqual(span.startMs);
    }
  });

  it('links each requested tool call to the response that requested it', () => {
    const { p, spans } = processAll();
    for (const r of expected.responses) for (const id of r.toolUseIds) expect(p.responseIdForToolUse(id)).toBe(r.messageId);
    for (const r of expected.responses) {
      const span = spans.find((s) => s.attributes['gen_ai.response.id'] === r.messageId)!;
      expect(span.attributes['claude_code.response.tool_call_ids'] ?? []).toEqual(r.toolUseIds);
    }
    expect(p.responseIdForToolUse('toolu_unknown')).toBeUndefined();
  });

  it('rolls tokens and calls up onto the subagent, the turn (subagent included) and the root', () => {
    const { ledger } = processAll();
    const sum = (rs: typeof expected.responses) => rs.reduce((a, r) => a + r.usage.output_tokens!, 0);
    const sub = expected.responses.filter((r) => r.agent === 'subagent');
    expect(ledger.usageFor(agentSpan)).toMatchObject({ calls: sub.length, outputTokens: sum(sub) });
    expect(ledger.usageFor(turn)).toMatchObject({ calls: expected.responses.length, outputTokens: sum(expected.responses) });
    expect(ledger.usageFor(root)).toMatchObject({ calls: expected.responses.length, outputTokens: sum(expected.responses) });
  });

  it('uses cost-state (Claude Code\'s own total) on the root where the transcript states it', () => {
    const { ledger } = processAll();
    expect(ledger.usageFor(root)).toMatchObject({ costUsd: expected.totalCostUsd, costSource: 'claude_code' });
    expect(usageAttributes(ledger.usageFor(root))['claude_code.cost.usd']).toBe(expected.totalCostUsd);
  });

  it('falls back to the price table without cost-state, within 1 % of Claude Code\'s total', () => {
    const { ledger, done } = processAll({ withoutCostState: true });
    const u = ledger.usageFor(root)!;
    expect(u.costSource).toBe('price_table');
    expect(Math.abs(u.costUsd - expected.totalCostUsd) / expected.totalCostUsd).toBeLessThan(0.01);
    expect(done.every((d) => d.costUsd !== undefined)).toBe(true);
  });

  it('counts calls of a model without a price as unpriced and never guesses their cost', () => {
    const { ledger, spans } = processAll({ withoutCostState: true, prices: {} });
    expect(ledger.usageFor(root)!.unpriced).toBe(0);
    const unknown = processAll({ withoutCostState: true, prices: { 'claude-haiku-5-5': { input: 0, output: 0, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0 } } });
    expect(unknown.ledger.usageFor(agentSpan)!.costUsd).toBe(0); // an override replaces the shipped price
    // A transcript on a model nobody priced:
    const l2 = createUsageLedger();
    const p2 = createModelCallProcessor({ ledger: l2, pricer: createPricer(), now: () => 1 });
    const row = lines(join(DIR, 'session.jsonl')).find((r) => r.type === 'assistant')!;
    const renamed = { ...row, requestedModel: 'claude-mock', message: { ...(row.message as object), model: 'claude-mock' } };
    const out = [...p2.records('k', S, undefined, [renamed]), ...p2.flush('k')];
    expect(out[0]!.costUsd).toBeUndefined();
    expect(out[0]!.span.attributes['claude_code.cost.unpriced']).toBe(true);
    expect(out[0]!.span.attributes['claude_code.cost.usd']).toBeUndefined();
    expect(l2.usageFor(root)).toMatchObject({ calls: 1, unpriced: 1, costUsd: 0 });
    expect(usageAttributes(l2.usageFor(root))['claude_code.model_calls.unpriced']).toBe(1);
    expect(spans.length).toBe(expected.responses.length);
  });

  it('counts the record types it does not use, and keeps content off unless captured', () => {
    const { p, spans } = processAll();
    expect(p.counters.otherTypes).toMatchObject({ attachment: expect.any(Number), 'queue-operation': 2, 'last-prompt': expect.any(Number) });
    expect(spans.some((s) => 'gen_ai.output.messages' in s.attributes)).toBe(false);
    const captured = processAll({ capture: (v) => `captured:${JSON.stringify(v)}` });
    const done = captured.spans.find((s) => s.attributes['gen_ai.response.finish_reasons']?.toString() === 'end_turn' && !s.attributes['gen_ai.agent.id'])!;
    expect(done.attributes['gen_ai.output.messages']).toBe('captured:[{"role":"assistant","parts":[{"type":"text","content":"done"}],"finish_reason":"end_turn"}]');
  });
});

describe('prices', () => {
  it('prices every kind of token with Claude Code\'s own rates (1h cache writes apart)', () => {
    const price = createPricer();
    expect(price('claude-opus-5-5', { input: 1e6, output: 0, cacheRead: 0, cacheCreation: 0, cacheCreation1h: 0 })).toBe(4);
    expect(price('claude-opus-5-5', { input: 0, output: 1e6, cacheRead: 1e6, cacheCreation: 2e6, cacheCreation1h: 1e6 })).toBe(20 + 0.2 + 5 + 8);
    expect(price('claude-sonnet-4-20250514', { input: 1e6, output: 0, cacheRead: 0, cacheCreation: 0, cacheCreation1h: 0 })).toBe(3);
    expect(price('claude-mock', { input: 1, output: 1, cacheRead: 0, cacheCreation: 0, cacheCreation1h: 0 })).toBeUndefined();
    expect(price(undefined, { input: 1, output: 1, cacheRead: 0, cacheCreation: 0, cacheCreation1h: 0 })).toBeUndefined();
  });

  it('maps the spellings of a model id to its table key', () => {
    expect(priceKey('claude-sonnet-4-5-20250929')).toBe('claude-sonnet-4-5');
    expect(priceKey('claude-opus-4-6[1m]')).toBe('claude-opus-4-6');
    expect(priceKey('us.anthropic.claude-haiku-4-5-20251001-v1:0')).toBe('claude-haiku-4-5');
    expect(priceKey('claude-sonnet-4-0')).toBe('claude-sonnet-4');
    for (const key of Object.keys(PRICE_TABLE)) expect(priceKey(key)).toBe(key);
  });
});
