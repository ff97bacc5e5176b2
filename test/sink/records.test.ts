import { describe, expect, it } from 'vitest';
import { parseTraceRequest } from '../../src/sink/otlp-schema.js';
import { anyValueToJson, nanosToIso, normalizeLogs, normalizeSpan, normalizeTraces } from '../../src/sink/records.js';
import { buildSyntheticSession } from './support/session.js';

describe('normalizeTraces', () => {
  it('promotes the trace-model attributes to columns', () => {
    const s = buildSyntheticSession({ startMs: Date.UTC(2025, 0, 2, 3, 4, 5, 678) });
    const parsed = parseTraceRequest(JSON.parse(JSON.stringify(s.traces)));
    expect(parsed.ok).toBe(true);
    const { records, rejected } = normalizeTraces(parsed.ok ? parsed.value : {});
    expect(rejected).toBe(0);
    const root = records.find((r) => r.kind === 'session')!;
    expect(root).toMatchObject({ parentSpanId: null, sessionId: s.sessionId, startTime: '2025-01-02T03:04:05.678000Z', durationMs: 600_000 });
    const mcp = records.find((r) => r.toolName === 'mcp__github__search')!;
    expect(mcp).toMatchObject({ performanceCategory: 'slow', operation: 'execute_tool', promptId: 'p1', status: 'unset' });
  });

  it('promotes a chat span\'s models, tokens and cost; a roll-up\'s figures; leaves out values that are not counts or costs', () => {
    const kv = (key: string, value: Record<string, unknown>) => ({ key, value });
    const base = { traceId: 'a'.repeat(32), startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000001000000000' };
    const chat = normalizeSpan({ ...base, spanId: '1'.repeat(16), name: 'chat claude-opus-5-5', attributes: [
      kv('claude_code.span.kind', { stringValue: 'model_call' }), kv('gen_ai.request.model', { stringValue: 'claude-opus-5-5' }),
      kv('gen_ai.response.model', { stringValue: 'claude-opus-5-5-20261101' }), kv('gen_ai.usage.input_tokens', { intValue: '1158' }),
      kv('gen_ai.usage.output_tokens', { intValue: 12 }), kv('gen_ai.usage.cache_read.input_tokens', { intValue: '1003' }),
      kv('gen_ai.usage.cache_creation.input_tokens', { intValue: '54' }), kv('claude_code.cost.usd', { doubleValue: 0.0011146 }),
    ] }, {}, null);
    expect('usage' in chat && chat.usage).toEqual({ requestModel: 'claude-opus-5-5', responseModel: 'claude-opus-5-5-20261101', inputTokens: 1158, outputTokens: 12, cacheReadTokens: 1003, cacheCreationTokens: 54, costUsd: 0.0011146, modelCalls: 1 });
    const turn = normalizeSpan({ ...base, spanId: '2'.repeat(16), name: 'claude_code.turn', attributes: [
      kv('claude_code.span.kind', { stringValue: 'turn' }), kv('claude_code.model_calls', { intValue: '5' }),
      kv('gen_ai.usage.input_tokens', { intValue: '9007199254740993' }), kv('gen_ai.usage.output_tokens', { doubleValue: 1.5 }),
      kv('gen_ai.usage.cache_read.input_tokens', { intValue: '-1' }), kv('claude_code.cost.usd', { stringValue: '0.01' }),
    ] }, {}, null);
    expect('usage' in turn && turn.usage).toEqual({ requestModel: null, responseModel: null, inputTokens: null, outputTokens: null, cacheReadTokens: null, cacheCreationTokens: null, costUsd: null, modelCalls: 5 });
  });

  it('keeps microseconds and converts AnyValue', () => {
    expect(nanosToIso('1700000000123456789')).toBe('2023-11-14T22:13:20.123456Z');
    expect(nanosToIso('0')).toBeNull();
    expect(anyValueToJson({ intValue: '9007199254740993' })).toBe('9007199254740993');
    expect(anyValueToJson({ arrayValue: { values: [{ boolValue: true }, { doubleValue: 1.5 }] } })).toEqual([true, 1.5]);
    expect(anyValueToJson({ kvlistValue: { values: [{ key: 'a', value: { stringValue: 'b' } }] } })).toEqual({ a: 'b' });
  });

  it('rejects spans with bad ids but keeps the others', () => {
    const s = buildSyntheticSession();
    s.spans[0]!.spanId = '0000000000000000';
    const r = normalizeTraces(s.traces as never);
    expect(r.rejected).toBe(1);
    expect(r.errors[0]).toMatch(/spanId/);
  });

  it('gives a replayed log record the same id', () => {
    const s = buildSyntheticSession();
    const a = normalizeLogs(s.logs as never).records[0]!;
    const b = normalizeLogs(JSON.parse(JSON.stringify(s.logs))).records[0]!;
    expect(a.recordId).toBe(b.recordId);
    expect(a.eventName).toBe('claude_code.hook.PermissionDenied');
  });
});
