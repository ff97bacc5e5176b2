import { describe, expect, it } from 'vitest';
import { capFields, exceedsDepth } from '../../../src/agent/event-limits.js';

describe('exceedsDepth', () => {
  it('finds nesting past the limit in one pass over the text', () => {
    const deep = (n: number) => `{"a":${'['.repeat(n)}${']'.repeat(n)}}`;
    expect(exceedsDepth(deep(199), 200)).toBe(false);
    expect(exceedsDepth(deep(200), 200)).toBe(true);
    expect(exceedsDepth(deep(100_000), 200)).toBe(true);
  });
  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(exceedsDepth(JSON.stringify({ s: `\\"${'['.repeat(1000)}` }), 10)).toBe(false);
  });
});

describe('capFields', () => {
  it('returns the same object within the cap', () => {
    const v = { session_id: 's', hook_event_name: 'X' };
    expect(capFields(v, 5).value).toBe(v);
  });
  it('keeps the identity fields and the first others, and says how many went', () => {
    const v: Record<string, unknown> = {};
    for (let i = 0; i < 1000; i++) v[`f${i}`] = i;
    v.session_id = 's';
    v.hook_event_name = 'Future';
    const { value, dropped } = capFields(v, 10);
    expect(Object.keys(value)).toHaveLength(10);
    expect(value.session_id).toBe('s');
    expect(value.hook_event_name).toBe('Future');
    expect(dropped).toBe(992);
  });
  it('copies an own __proto__ field as data, without touching the prototype', () => {
    const v = JSON.parse(`{${Array.from({ length: 20 }, (_, i) => `"f${i}":1`).join(',')},"__proto__":{"polluted":true}}`) as Record<string, unknown>;
    const { value } = capFields(v, 30);
    expect(Object.getPrototypeOf(value)).toBe(Object.getPrototypeOf(v));
    const capped = capFields(v, 5).value;
    expect(Object.getPrototypeOf(capped)).toBe(Object.prototype);
    expect((capped as { polluted?: unknown }).polluted).toBeUndefined();
  });
});
