import { describe, expect, it } from 'vitest';
import { parseSinkConfig } from '../../src/sink/config.js';
import { jsonDepthExceeded, rejectedCount, validateLogs, validateTraces } from '../../src/sink/validate.js';
import { buildSyntheticSession } from './support/session.js';

const limits = parseSinkConfig({}).limits;
const now = () => new Date();
const buf = (s: string) => Buffer.from(s, 'utf8');

describe('jsonDepthExceeded', () => {
  it('counts brackets outside strings only', () => {
    expect(jsonDepthExceeded(buf('[[[]]]'), 3)).toBe(-1);
    expect(jsonDepthExceeded(buf('[[[[]]]]'), 3)).toBe(3);
    expect(jsonDepthExceeded(buf(`{"a":"${'['.repeat(100)}"}`), 3)).toBe(-1);
    expect(jsonDepthExceeded(buf(`{"a":"\\"${'{'.repeat(10)}"}`), 3)).toBe(-1); // escaped quote stays in the string
    expect(jsonDepthExceeded(buf(`{"é\\\\":[[{"ü":[1]}]]}`), 5)).toBe(-1);
    expect(jsonDepthExceeded(buf(`{"é\\\\":[[{"ü":[1]}]]}`), 4)).toBeGreaterThan(0);
  });
});

describe('validateTraces', () => {
  it('passes the synthetic session unchanged', () => {
    const s = buildSyntheticSession();
    const r = validateTraces(JSON.parse(JSON.stringify(s.traces)), { limits, now });
    expect(r.ok && r.value.records.length).toBe(s.spans.length);
    expect(r.ok && rejectedCount(r.value)).toBe(0);
  });

  it('drops each record over a bound with its reason, keeps the rest', () => {
    const s = buildSyntheticSession();
    const spans = JSON.parse(JSON.stringify(s.spans));
    spans[0].attributes.push({ key: 'k'.repeat(300), value: { stringValue: 'v' } });
    spans[1].attributes = Array.from({ length: 300 }, (_, i) => ({ key: `a${i}`, value: { intValue: i } }));
    spans[2].attributes.push({ key: 'big', value: { stringValue: 'é'.repeat(600_000) } });
    spans[3].name = 'n'.repeat(2000);
    spans[4].traceId = 'zz';
    spans[5].events = Array.from({ length: 2000 }, () => ({ name: 'e', timeUnixNano: spans[5].startTimeUnixNano }));
    spans[6].kind = 'not a number';
    const r = validateTraces({ resourceSpans: [{ scopeSpans: [{ spans }] }] }, { limits, now });
    if (!r.ok) throw new Error(r.error);
    expect(Object.fromEntries(r.value.rejected)).toEqual({
      key_too_long: 1, too_many_attributes: 1, value_too_long: 1, column_too_long: 1, invalid_id: 1, too_many_events: 1, invalid_record: 1,
    });
    expect(r.value.records).toHaveLength(s.spans.length - 7);
    expect(r.value.errors.join(';').length).toBeLessThan(2_000);
  });

  it('walks array items as values even when they carry a stray "key" (no bypass of the depth bound)', () => {
    const s = buildSyntheticSession();
    const spans = JSON.parse(JSON.stringify(s.spans));
    const deep = (n: number): unknown => (n === 0 ? { stringValue: 'x' } : { arrayValue: { values: [deep(n - 1)] } });
    spans[0].attributes.push({ key: 'a', value: { arrayValue: { values: [{ key: 'looks-like-a-pair', ...(deep(12) as object) }] } } });
    spans[1].attributes.push({ key: 'b', value: { kvlistValue: { values: [{ key: 'k', value: deep(12) }] } } });
    const r = validateTraces({ resourceSpans: [{ scopeSpans: [{ spans }] }] }, { limits, now });
    expect(r.ok && Object.fromEntries(r.value.rejected)).toEqual({ value_too_deep: 2 });
  });

  it('drops every span of a resource whose attributes are over a bound', () => {
    const s = buildSyntheticSession();
    const body = JSON.parse(JSON.stringify(s.traces));
    body.resourceSpans[0].resource.attributes.push({ key: 'session.id', value: { stringValue: 's'.repeat(10_000) } });
    const r = validateTraces(body, { limits, now });
    // The resource's session.id only matters for spans without their own: it is a column bound, per span.
    expect(r.ok && r.value.records.length).toBe(s.spans.length);
    body.resourceSpans[0].resource.attributes = Array.from({ length: 1000 }, (_, i) => ({ key: `r${i}`, value: { boolValue: true } }));
    const r2 = validateTraces(body, { limits, now });
    expect(r2.ok && Object.fromEntries(r2.value.rejected)).toEqual({ too_many_attributes: s.spans.length });
  });

  it('refuses only a body that is not an OTLP trace request', () => {
    expect(validateTraces({ resourceSpans: 'x' }, { limits, now }).ok).toBe(false);
    expect(validateTraces([], { limits, now }).ok).toBe(false);
    expect(validateTraces({}, { limits, now }).ok).toBe(true);
  });

  it('rejects times outside the window, whatever the clock says', () => {
    const s = buildSyntheticSession({ startMs: Date.UTC(2030, 0, 1) });
    const at = (d: Date) => validateTraces(JSON.parse(JSON.stringify(s.traces)), { limits, now: () => d });
    const inside = at(new Date(Date.UTC(2030, 0, 2)));
    expect(inside.ok && inside.value.records.length).toBe(s.spans.length);
    const later = at(new Date(Date.UTC(2030, 0, 20)));
    expect(later.ok && Object.fromEntries(later.value.rejected)).toEqual({ time_out_of_window: s.spans.length });
    const earlier = at(new Date(Date.UTC(2029, 11, 25)));
    expect(earlier.ok && later.ok && earlier.value.records.length).toBe(0);
  });
});

describe('validateLogs', () => {
  it('bounds the body and the columns of a log record', () => {
    const s = buildSyntheticSession();
    const body = JSON.parse(JSON.stringify(s.logs));
    const rec = body.resourceLogs[0].scopeLogs[0].logRecords[0];
    body.resourceLogs[0].scopeLogs[0].logRecords.push(
      { ...rec, body: { stringValue: 'x'.repeat(2_000_000) } },
      { ...rec, eventName: 'e'.repeat(1_000) },
      { ...rec, timeUnixNano: '99999999999999999999' },
    );
    const r = validateLogs(body, { limits, now });
    if (!r.ok) throw new Error(r.error);
    expect(r.value.records).toHaveLength(1);
    expect(Object.fromEntries(r.value.rejected)).toEqual({ value_too_long: 1, column_too_long: 1, time_out_of_window: 1 });
  });
});
