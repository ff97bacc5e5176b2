// The schema-derived "unchanged" check (src/events/fast-check.ts) against zod itself: whenever the
// check says a value passes unchanged, zod accepts it and returns an equal value; and the real
// Claude Code payloads (2.1.328 and 2.1.332) take the fast path. Values are the real fixtures with
// fields retyped, removed, emptied, lengthened or added, and `__proto__` keys.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { unchangedBy } from '../../../src/events/fast-check.js';
import {
  knownHookEventSchema, otherHookEventSchema, parseHookEvent, postToolBatchSchema, preToolUseSchema, sessionStartSchema,
} from '../../../src/events/schema.js';

const FIXTURES = ['claude-code-2.1.328', 'claude-code-2.1.332'].flatMap((v) => {
  const dir = join(import.meta.dirname, '../../fixtures', v, 'hooks');
  return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>);
});

const schemaFor = (value: Record<string, unknown>) =>
  knownHookEventSchema.options.find((s) => s.shape.hook_event_name.value === value.hook_event_name) ?? otherHookEventSchema;

const oddValues = fc.oneof(
  fc.constant(undefined), fc.constant(null), fc.constant(''), fc.constant(0), fc.constant(-1.5), fc.constant(true),
  fc.constant([]), fc.constant({}), fc.string({ maxLength: 5 }), fc.constant('x'.repeat(201)), fc.constant([{ tool_use_id: 7 }]),
  fc.constant([{ tool_use_id: 'toolu_1', tool_name: 'Read', extra: 1 }]), fc.constant(1e400), fc.constant('PreToolUse'),
);

const mutated = fc.record({
  base: fc.constantFrom(...FIXTURES),
  edits: fc.array(fc.record({ field: fc.nat(), value: oddValues, op: fc.constantFrom('set', 'delete', 'add', 'proto') }), { maxLength: 3 }),
}).map(({ base, edits }) => {
  const v: Record<string, unknown> = JSON.parse(JSON.stringify(base));
  for (const e of edits) {
    const keys = Object.keys(v);
    const key = keys.length ? keys[e.field % keys.length]! : 'x';
    if (e.op === 'delete') delete v[key];
    else if (e.op === 'add') v[`extra_${e.field % 5}`] = e.value;
    else if (e.op === 'proto') Object.defineProperty(v, '__proto__', { value: { polluted: true }, enumerable: true, writable: true, configurable: true });
    else v[key] = e.value;
  }
  return v;
});

describe('the unchanged check derived from the event schemas', () => {
  it('never says "unchanged" where zod would reject or change the value', () => {
    fc.assert(fc.property(mutated, (v) => {
      const schema = schemaFor(v);
      const check = unchangedBy(schema);
      expect(check).toBeDefined();
      if (!check!(v)) return;
      const parsed = schema.safeParse(v);
      expect(parsed.success).toBe(true);
      expect(parsed.data).toStrictEqual(v);
    }), { numRuns: 3000 });
  });

  it('takes every real Claude Code payload as it is, and parseHookEvent gives zod\'s result either way', () => {
    for (const v of FIXTURES) {
      const schema = schemaFor(v);
      expect(unchangedBy(schema)!(v)).toBe(true);
      const fast = parseHookEvent(v);
      expect(fast.ok && fast.event).toBe(v); // the value itself: no copy
      const slow = schema.safeParse(v);
      expect(fast.ok && fast.event).toStrictEqual(slow.data);
    }
  });

  it('leaves to zod what it would change or refuse: a lenient field of the wrong type, a missing id, an over-long id, __proto__', () => {
    const pre = FIXTURES.find((f) => f.hook_event_name === 'PreToolUse')!;
    const check = unchangedBy(preToolUseSchema)!;
    expect(check({ ...pre, cwd: 42 })).toBe(false);
    expect(parseHookEvent({ ...pre, cwd: 42 })).toMatchObject({ ok: true, event: { cwd: undefined } }); // zod dropped it
    expect(check({ ...pre, tool_use_id: undefined })).toBe(false);
    expect(parseHookEvent({ ...pre, tool_use_id: 'x'.repeat(201) }).ok).toBe(false);
    expect(check(JSON.parse(JSON.stringify(pre).replace('{', '{"__proto__":{"x":1},')))).toBe(false);
    const batch = FIXTURES.find((f) => f.hook_event_name === 'PostToolBatch')!;
    expect(unchangedBy(postToolBatchSchema)!({ ...batch, tool_calls: [{ tool_use_id: 7 }] })).toBe(false);
    expect(unchangedBy(sessionStartSchema)!({ ...FIXTURES.find((f) => f.hook_event_name === 'SessionStart')!, hook_event_name: 'Stop' })).toBe(false);
  });

  it('declines schemas it does not understand (then zod always runs)', () => {
    expect(unchangedBy(z.object({ a: z.string().email() }))).toBeUndefined();
    expect(unchangedBy(z.strictObject({ a: z.string() }))).toBeUndefined();
    expect(unchangedBy(z.object({ a: z.number().int() }))).toBeUndefined();
    expect(unchangedBy(z.object({ a: z.union([z.string(), z.number()]) }))).toBeUndefined();
    const strip = unchangedBy(z.object({ a: z.string() }))!;
    expect(strip({ a: 'x' })).toBe(true);
    expect(strip({ a: 'x', b: 1 })).toBe(false); // zod would strip b
  });
});
