// Model-call figures in the terminal views: money and token formats, the cost cell of a row, and a
// session's usage from its stored spans (the cost rule of session_summaries in docs/queries.md).
import { describe, expect, it } from 'vitest';
import { sessionUsage } from '../../src/store/session-usage.js';
import type { StoredSpan } from '../../src/store/stored-span.js';
import { costCell, formatCost, formatTokens, usageLine } from '../../src/view/cost.js';
import { renderWaterfall } from '../../src/view/waterfall.js';

const T0 = BigInt(Date.UTC(2025, 0, 1)) * 1_000_000n;
const ms = (n: number): string => String(T0 + BigInt(n) * 1_000_000n);
function span(spanId: string, parent: string | undefined, name: string, start: number, end: number, attributes: StoredSpan['attributes']): StoredSpan {
  return {
    traceId: 'a'.repeat(32), spanId, name, kind: 'internal', startTimeUnixNano: ms(start), endTimeUnixNano: ms(end),
    status: { code: 'unset' }, attributes: { 'session.id': 'sess-1', ...attributes }, events: [], ...(parent ? { parentSpanId: parent } : {}),
  };
}
const chat = (id: string, parent: string, start: number, input: number, output: number, cacheRead: number, cost?: number) =>
  span(id, parent, 'chat claude-opus-5-5', start, start + 50, {
    'claude_code.span.kind': 'model_call', 'gen_ai.usage.input_tokens': input, 'gen_ai.usage.output_tokens': output,
    'gen_ai.usage.cache_read.input_tokens': cacheRead, ...(cost === undefined ? { 'claude_code.cost.unpriced': true } : { 'claude_code.cost.usd': cost }),
  });

describe('formats', () => {
  it('money in few characters, never rounded to a misleading zero', () => {
    expect([12.345, 0.1234, 0.01085331, 0.0011146, 0.00006413, 0].map(formatCost)).toEqual(['$12.35', '$0.123', '$0.0109', '$0.0011', '<$0.0001', '$0']);
  });
  it('token counts', () => {
    expect([950, 1000, 1530, 16_844, 2_400_000, 3_000_000].map(formatTokens)).toEqual(['950', '1k', '1.5k', '17k', '2.4M', '3M']);
  });
});

describe('costCell', () => {
  it('a chat span its own cost, ? when unpriced; a roll-up +? when some calls are unpriced; nothing on other spans', () => {
    expect(costCell(chat('c', 't', 0, 10, 1, 0, 0.0043))).toBe('$0.0043');
    expect(costCell(chat('c', 't', 0, 10, 1, 0))).toBe('?');
    expect(costCell(span('t', 'r', 'claude_code.turn', 0, 1, { 'claude_code.span.kind': 'turn', 'claude_code.cost.usd': 0.2, 'claude_code.model_calls.unpriced': 1 }))).toBe('$0.200+?');
    expect(costCell(span('b', 't', 'execute_tool Bash', 0, 1, { 'claude_code.span.kind': 'tool' }))).toBe('');
  });
});

describe('sessionUsage', () => {
  const root = (cost: number | undefined, end: number) => span('r', undefined, 'invoke_agent claude-code', 0, end, { 'claude_code.span.kind': 'session', ...(cost === undefined ? {} : { 'claude_code.cost.usd': cost }) });
  const calls = [chat('c1', 't', 10, 1000, 10, 800, 0.01), chat('c2', 't', 100, 2000, 20, 1500, 0.02), chat('c3', 't', 200, 500, 5, 0)];

  it('sums the chat spans; the cost is the root\'s (Claude Code\'s own), not the calls\' sum', () => {
    expect(sessionUsage([root(0.05, 1000), ...calls])).toEqual({ modelCalls: 3, unpricedCalls: 1, inputTokens: 3500, outputTokens: 35, cacheReadTokens: 2300, costUsd: 0.05 });
  });
  it('a later resumed segment carries the cumulative figure; while nothing has closed, the priced calls\' sum', () => {
    const segment = span('s', 'r', 'claude_code.session.resume', 2000, 3000, { 'claude_code.span.kind': 'segment', 'claude_code.cost.usd': 0.09 });
    expect(sessionUsage([segment, root(0.05, 1000), ...calls]).costUsd).toBe(0.09);
    expect(sessionUsage(calls).costUsd).toBeCloseTo(0.03, 15);
    expect(sessionUsage([span('b', 't', 'execute_tool Bash', 0, 1, { 'claude_code.span.kind': 'tool' })])).toEqual({ modelCalls: 0, unpricedCalls: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0 });
  });
  it('the header line', () => {
    expect(usageLine(sessionUsage([root(0.05, 1000), ...calls]))).toBe('3 model calls · 3.5k tokens in (66% cached) · 35 out · $0.0500 + 1 unpriced');
    expect(usageLine(sessionUsage([calls[2]!]))).toBe('1 model call · 500 tokens in (0% cached) · 5 out · 1 unpriced');
    expect(usageLine(sessionUsage([]))).toBeUndefined();
  });
});

describe('renderWaterfall with model calls', () => {
  it('a cost column appears only when some span has a cost, right-aligned, every line within the width', () => {
    const turn = span('t', 'r', 'claude_code.turn', 5, 900, { 'claude_code.span.kind': 'turn', 'claude_code.turn.number': 1, 'claude_code.cost.usd': 0.03, 'claude_code.model_calls.unpriced': 1 });
    const spans = [span('r', undefined, 'invoke_agent claude-code', 0, 1000, { 'claude_code.span.kind': 'session', 'claude_code.cost.usd': 0.05 }), turn, ...[chat('c1', 't', 10, 1000, 10, 800, 0.01), chat('c3', 't', 200, 500, 5, 0)]];
    for (const width of [40, 60, 80, 120]) {
      const text = renderWaterfall(spans, { width, now: 0 });
      for (const line of text.split('\n')) expect([...line].length).toBeLessThanOrEqual(width);
    }
    const lines = renderWaterfall(spans, { width: 80, now: 0 }).split('\n');
    expect(lines[2]).toBe('2 model calls · 1.5k tokens in (53% cached) · 15 out · $0.0500 + 1 unpriced');
    const row = (label: string) => lines.find((l) => l.trimStart().startsWith(label))!;
    expect(row('turn 1')).toMatch(/ \$0\.0300\+\? ✓$/);
    expect(row('chat')).toMatch(/ \$0\.0100 ✓$/);
    expect(lines.filter((l) => l.trimStart().startsWith('chat')).at(-1)).toMatch(/ {8}\? ✓$/);
    const plain = renderWaterfall([span('r', undefined, 'invoke_agent claude-code', 0, 1000, { 'claude_code.span.kind': 'session' })], { width: 80, now: 0 });
    expect(plain).not.toMatch(/\$|model call/);
  });
});
