import { describe, expect, it } from 'vitest';
import type { StoredSpan } from '../../src/store/stored-span.js';
import type { LiveSpan } from '../../src/ui/agent-live.js';
import { buildWaterfall } from '../../src/ui/app/waterfall-rows.js';
import { matchesQuery, sessionRows } from '../../src/ui/server.js';

const T = 'b'.repeat(32);
const ms = (n: number) => (BigInt(n) * 1_000_000n).toString();
const stored = (id: string, parent: string | undefined, kind: string, start: number, end: number, attrs: Record<string, string> = {}, name = `${kind} ${id}`): StoredSpan => ({
  traceId: T, spanId: id, ...(parent ? { parentSpanId: parent } : {}), name, kind: 'internal', startTimeUnixNano: ms(start), endTimeUnixNano: ms(end),
  status: { code: attrs['error.type'] ? 'error' : 'unset' }, attributes: { 'claude_code.span.kind': kind, ...attrs }, events: [],
});

describe('buildWaterfall', () => {
  it('nests stored and running spans, puts each subagent in its own lane, and marks outcomes', () => {
    const spans = [
      stored('turn', 'root', 'turn', 1000, 5000, { 'claude_code.turn.outcome': 'stop' }),
      stored('a1', 'turn', 'tool', 1100, 3000, {}, 'execute_tool Agent'),
      stored('a2', 'turn', 'tool', 1200, 3500, {}, 'execute_tool Agent'),
      stored('s1', 'a1', 'subagent', 1150, 2900, {}, 'invoke_agent Explore'),
      stored('s2', 'a2', 'subagent', 1250, 3400, {}, 'invoke_agent Plan'),
      stored('t1', 's1', 'tool', 1200, 1300, { 'error.type': 'exit_code_3' }, 'execute_tool Bash'),
      stored('t2', 's2', 'tool', 1300, 1400, { 'claude_code.tool.outcome': 'denied' }, 'execute_tool Bash'),
      stored('t3', 'turn', 'tool', 4000, 4100, { 'claude_code.gap': 'missing_end' }, 'execute_tool WebFetch'),
    ];
    const live: LiveSpan[] = [{ spanId: 'root', parentSpanId: null, name: 'invoke_agent claude-code', kind: 'session', startMs: 900, attributes: { 'claude_code.span.kind': 'session' } }];
    const w = buildWaterfall(spans, live, T, 6000);
    expect(w.rows.map((r) => [r.depth, r.name, r.lane, r.mark])).toEqual([
      [0, 'invoke_agent claude-code', 0, 'running'],
      [1, 'turn turn', 0, 'ok'],
      [2, 'execute_tool Agent', 0, 'ok'],
      [3, 'invoke_agent Explore', 1, 'ok'],
      [4, 'execute_tool Bash', 1, 'error'],
      [2, 'execute_tool Agent', 0, 'ok'],
      [3, 'invoke_agent Plan', 2, 'ok'],
      [4, 'execute_tool Bash', 2, 'denied'],
      [2, 'execute_tool WebFetch', 0, 'gap'],
    ]);
    // The running root ends "now": its duration grows with the clock.
    expect(w.rows[0]!.durationMs).toBe(5100);
    expect(buildWaterfall(spans, live, T, 7000).rows[0]!.durationMs).toBe(6100);
    expect(w.rows[4]!.note).toBe('exit_code_3');
  });

  it('a span the agent closed but the store has not got yet is drawn closing, ending when it closed', () => {
    const w = buildWaterfall([], [{ spanId: 'y', parentSpanId: null, name: 'tool y', kind: 'tool', startMs: 100, endMs: 400, attributes: {} }], T, 9_999);
    expect(w.rows.map((r) => [r.mark, r.durationMs])).toEqual([['closing', 300]]);
  });

  it('a stored span wins over the live copy of it', () => {
    const w = buildWaterfall([stored('x', undefined, 'tool', 0, 10)], [{ spanId: 'x', parentSpanId: null, name: 'tool x', kind: 'tool', startMs: 0, attributes: {} }], T, 99);
    expect(w.rows.map((r) => r.mark)).toEqual(['ok']);
  });
});

describe('sessionRows / matchesQuery', () => {
  it('lists running sessions first, including ones with nothing stored yet', () => {
    const base = { traceId: T, fileKey: 'k', durationMs: 1, turns: 1, tools: 1, errors: 0, spans: 1, open: false };
    const rows = sessionRows(
      { sessions: [{ ...base, sessionId: 'new', start: '2026-01-02T00:00:00Z' }, { ...base, sessionId: 'old', start: '2026-01-01T00:00:00Z' }] },
      { agent: { running: true }, sessions: [{ sessionId: 'old', traceId: T, lastEventMs: 0, spans: [] }, { sessionId: 'fresh', traceId: T, lastEventMs: Date.parse('2025-01-01'), spans: [] }] },
    );
    expect(rows.map((r) => [r.sessionId, r.running])).toEqual([['old', true], ['fresh', true], ['new', false]]);
  });
  it('matches a session id, prompt id or tool_use_id', () => {
    const row = { sessionId: 'abc-123', running: false, openSpans: 0 };
    const spans = [{ attributes: { 'claude_code.prompt.id': 'prompt-777', 'gen_ai.tool.call.id': 'toolu_XYZ' } }];
    expect(matchesQuery(row, spans, 'abc')).toBe(true);
    expect(matchesQuery(row, spans, 'prompt-777')).toBe(true);
    expect(matchesQuery(row, spans, 'toolu_xyz')).toBe(true);
    expect(matchesQuery(row, spans, 'nothing')).toBe(false);
    expect(matchesQuery(row, spans, '  ')).toBe(true);
  });
});
