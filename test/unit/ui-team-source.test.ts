import { describe, expect, it } from 'vitest';
import { parseUiArgs } from '../../src/cli/ui-command.js';
import { spanFields } from '../../src/sink/redis/sink.js';
import type { SpanRecord } from '../../src/sink/records.js';
import { spanUsage } from '../../src/sink/usage.js';
import { compareEntryIds, parseEntries, parseEntryId } from '../../src/ui/team-feed.js';
import { rowFromSummary, type SummaryRow } from '../../src/ui/team-history.js';
import { backOff, groupEntries } from '../../src/ui/team-source.js';
import { isoToNanos, spanFromEntry, spanFromRow } from '../../src/ui/team-span.js';

const record = (over: Partial<SpanRecord> = {}): SpanRecord => ({
  traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), parentSpanId: 'c'.repeat(16), sessionId: 'sess-1', name: 'execute_tool Bash',
  kind: 'tool', otelKind: 1, startTime: '2025-11-24T10:00:00.123456Z', endTime: '2025-11-24T10:00:01.000001Z', startUnixMs: 0,
  durationMs: 876.545, status: 'error', statusMessage: 'exit 3', errorType: 'exit_code_3', toolName: 'Bash', operation: 'execute_tool',
  agentType: null, promptId: 'p-1', performanceCategory: null, attributes: { 'claude_code.span.kind': 'tool', 'gen_ai.tool.call.id': 'toolu_1', n: 3 },
  resource: { 'service.name': 'x' }, events: [{ name: 'gap', time: '2025-11-24T10:00:00.5Z', attributes: { k: 'v' } }], scope: null, usage: spanUsage({}), ...over,
});

describe('isoToNanos', () => {
  it('keeps microseconds (and nanoseconds) exactly', () => {
    expect(isoToNanos('2025-11-24T10:00:00.123456Z')).toBe('1763978400123456000');
    expect(isoToNanos('2025-11-24T10:00:00Z')).toBe('1763978400000000000');
    expect(isoToNanos('2025-11-24T10:00:00.000000001Z')).toBe('1763978400000000001');
    expect(isoToNanos('2025-11-24T11:00:00.5+01:00')).toBe('1763978400500000000');
  });
  it('refuses what is not a time', () => {
    for (const bad of ['', 'yesterday', '2025-11-24', 42, null, undefined]) expect(isoToNanos(bad)).toBeUndefined();
  });
});

describe('spanFromEntry', () => {
  it('reads back what the sink writes to the stream', () => {
    const span = spanFromEntry(spanFields(record()))!;
    expect(span).toEqual({
      traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), parentSpanId: 'c'.repeat(16), name: 'execute_tool Bash', kind: 'internal',
      startTimeUnixNano: '1763978400123456000', endTimeUnixNano: '1763978401000001000', status: { code: 'error', message: 'exit 3' },
      attributes: { 'claude_code.span.kind': 'tool', 'gen_ai.tool.call.id': 'toolu_1', n: 3 },
      events: [{ name: 'gap', timeUnixNano: '1763978400500000000', attributes: { k: 'v' } }],
    });
  });
  it('a root span has no parent; log entries and broken json are not spans', () => {
    expect(spanFromEntry(spanFields(record({ parentSpanId: null })))!.parentSpanId).toBeUndefined();
    expect(spanFromEntry({ type: 'log', record_id: 'x', time: '2025-11-24T10:00:00Z', json: '{}' })).toBeUndefined();
    expect(spanFromEntry({ ...spanFields(record()), json: '{not json' })).toBeUndefined();
    expect(spanFromEntry({ ...spanFields(record()), start_time: 'soon' })).toBeUndefined();
  });
});

describe('spanFromRow', () => {
  it('maps a PostgreSQL row (epoch microseconds) with its OTLP kind', () => {
    const span = spanFromRow({ trace_id: 't', span_id: 's', parent_span_id: null, name: 'chat m', otel_kind: 3, start_us: '1763978400123456', end_us: null, status: 'ok', status_message: null, attributes: { a: 1 }, events: [] })!;
    expect(span).toEqual({ traceId: 't', spanId: 's', name: 'chat m', kind: 'client', startTimeUnixNano: '1763978400123456000', endTimeUnixNano: '1763978400123456000', status: { code: 'ok' }, attributes: { a: 1 }, events: [] });
  });
});

describe('stream entry ids', () => {
  it('parses ids and refuses anything else (Last-Event-ID is input)', () => {
    expect(parseEntryId('1763978400123-7')).toBe('1763978400123-7');
    expect(parseEntryId(' 01-02 ')).toBe('1-2');
    for (const bad of ['', '123', '1-2-3', 'a-1', '$', '>', '1763978400123-7,x', undefined, null]) expect(parseEntryId(bad)).toBeUndefined();
  });
  it('compares numerically, not as text', () => {
    expect(compareEntryIds('9-0', '10-0')).toBe(-1);
    expect(compareEntryIds('10-2', '10-10')).toBe(-1);
    expect(compareEntryIds('10-10', '10-10')).toBe(0);
    expect(compareEntryIds('11-0', '10-99')).toBe(1);
  });
  it('backs the start position off by the overlap', () => {
    expect(backOff('1763978400123-7', 5_000)).toBe('1763978395123-0');
    expect(backOff('0-0', 5_000)).toBe('0-0');
    expect(backOff('1000-3', 5_000)).toBe('0-0');
  });
  it('parses a RESP2 entry list', () => {
    expect(parseEntries([['1-0', ['a', '1', 'b', '2']], ['2-0', []], 'junk'])).toEqual([{ id: '1-0', fields: { a: '1', b: '2' } }, { id: '2-0', fields: {} }]);
    expect(parseEntries(null)).toEqual([]);
  });
});

describe('groupEntries', () => {
  it('groups consecutive entries of one session; each group ends at its last entry id', () => {
    const e = (id: string, sessionId: string, spanId: string) => ({ id, fields: spanFields(record({ sessionId, spanId })) });
    const groups = groupEntries([e('1-0', 'A', '1'.repeat(16)), e('1-1', 'A', '2'.repeat(16)), { id: '2-0', fields: { type: 'log' } }, e('3-0', 'B', '3'.repeat(16)), e('4-0', 'A', '4'.repeat(16))]);
    expect(groups.map((g) => [g.id, g.sessionId, g.entryIds, g.spans.map((s) => s.spanId[0])])).toEqual([
      ['1-1', 'A', ['1-0', '1-1'], ['1', '2']],
      ['3-0', 'B', ['3-0'], ['3']],
      ['4-0', 'A', ['4-0'], ['4']],
    ]);
  });
});

describe('rowFromSummary', () => {
  const base: SummaryRow = { session_id: 's', root_trace_id: null, any_trace_id: 't', min_start_ms: 1_000, max_end_ms: 5_000, root_start_ms: null, root_end_ms: null, last_ingest_ms: 5_000, turns: 1, tools: 2, errors: 1, spans: 4, cwd: '/w/p' };
  it('an open session with recent spans is running; its duration runs to the newest span', () => {
    expect(rowFromSummary(base, 6_000, 60_000)).toMatchObject({ sessionId: 's', traceId: 't', running: true, open: true, durationMs: 4_000, turns: 1, tools: 2, errors: 1, cwd: '/w/p' });
    expect(rowFromSummary(base, 70_000, 60_000).running).toBe(false);
  });
  it('an ended session takes the root span time and is never running', () => {
    const row = rowFromSummary({ ...base, root_trace_id: 'r', root_start_ms: 500, root_end_ms: 9_500 }, 6_000, 60_000);
    expect(row).toMatchObject({ traceId: 'r', open: false, running: false, durationMs: 9_000, end: new Date(9_500).toISOString() });
  });
});

describe('parseUiArgs', () => {
  it('team needs both URLs; flags win over the environment', () => {
    expect(parseUiArgs(['--source', 'team'], {})).toMatch(/--postgres/);
    expect(parseUiArgs(['--source', 'team', '--postgres', 'postgres://ro@h/db'], {})).toMatch(/--redis/);
    expect(parseUiArgs(['--source', 'team', '--postgres', 'mysql://x', '--redis', 'redis://h'], {})).toMatch(/--postgres/);
    expect(parseUiArgs(['--source', 'team', '--postgres', 'postgres://ro@h/db', '--redis', 'redis://h', '--redis-prefix', 'a b'], {})).toMatch(/prefix/);
    expect(parseUiArgs(['--source', 'team', '--postgres', 'postgres://ro@h/db', '--redis', 'redis://h', '--redis-prefix', 'p:1'], {})).toMatchObject({ source: 'team', postgresUrl: 'postgres://ro@h/db', redisUrl: 'redis://h', redisPrefix: 'p:1' });
    const env = { CLAUDE_OTEL_UI_SOURCE: 'team', CLAUDE_OTEL_UI_POSTGRES_URL: 'postgresql://e/db', CLAUDE_OTEL_UI_REDIS_URL: 'rediss://e', CLAUDE_OTEL_UI_PORT: '7000' };
    expect(parseUiArgs(['--port', '7001'], env)).toMatchObject({ source: 'team', postgresUrl: 'postgresql://e/db', redisUrl: 'rediss://e', port: 7001, redisPrefix: 'claude-otel:v1' });
  });
  it('local stays the default and refuses team-only flags', () => {
    expect(parseUiArgs([], {})).toMatchObject({ source: 'local', port: 0, host: '127.0.0.1' });
    expect(parseUiArgs(['--redis', 'redis://h'], {})).toMatch(/--source team/);
    expect(parseUiArgs(['--source', 'cloud'], {})).toMatch(/local or team/);
    expect(parseUiArgs(['--host', '0.0.0.0'], {})).toMatch(/loopback/);
    expect(parseUiArgs(['--bogus'], {})).toMatch(/unknown/);
    expect(parseUiArgs(['--port'], {})).toMatch(/needs a value/);
  });
});
