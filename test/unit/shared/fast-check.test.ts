// The schema-derived "unchanged" check (src/shared/fast-check.ts) against zod itself: whenever the
// check says a value passes unchanged, zod accepts it and returns an equal value; and the real
// Claude Code payloads (every recorded version) take the fast path. Values are the real fixtures with
// fields retyped, removed, emptied, lengthened or added, and `__proto__` keys.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { unchangedBy } from '../../../src/shared/fast-check.js';
import { recordSchemas } from '../../../src/model-calls/records.js';
import {
  knownHookEventSchema, otherHookEventSchema, parseHookEvent, postToolBatchSchema, preToolUseSchema, sessionStartSchema,
} from '../../../src/events/schema.js';
import { fixture, recordedPayloads } from '../../support/fixtures.js';

const FIXTURES = recordedPayloads().map((p) => fixture(p.name));

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

// The transcript records the model-call stage reads (src/model-calls/records.ts): the real rows of
// the 2.1.332 transcripts, mutated at any depth (inside message, usage and content too).
const TRANSCRIPT_DIR = join(import.meta.dirname, '../../fixtures/claude-code-2.1.332/transcripts');
const ROWS = [join(TRANSCRIPT_DIR, 'session.jsonl'), ...readdirSync(join(TRANSCRIPT_DIR, 'subagents')).filter((f) => f.endsWith('.jsonl')).map((f) => join(TRANSCRIPT_DIR, 'subagents', f))]
  .flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>));
const schemaOfRow = (row: Record<string, unknown>): z.ZodType | undefined =>
  row.type === 'assistant' ? recordSchemas.assistant : row.type === 'api-request' ? recordSchemas.apiRequest : row.type === 'cost-state' ? recordSchemas.costState : undefined;
const READ_ROWS = ROWS.filter((r) => schemaOfRow(r));
const BLOCKS = ROWS.filter((r) => r.type === 'assistant').flatMap((r) => (r.message as { content: unknown[] }).content);

/** Every object inside `v` (itself included), to pick one to edit. */
const objectsIn = (v: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] => {
  if (v && typeof v === 'object') {
    if (!Array.isArray(v)) out.push(v as Record<string, unknown>);
    for (const x of Object.values(v)) objectsIn(x, out);
  }
  return out;
};
const mutatedDeep = (bases: Record<string, unknown>[]) => fc.record({
  base: fc.constantFrom(...bases),
  edits: fc.array(fc.record({ at: fc.nat(), field: fc.nat(), value: oddValues, op: fc.constantFrom('set', 'delete', 'add', 'proto') }), { maxLength: 3 }),
}).map(({ base, edits }) => {
  const v: Record<string, unknown> = JSON.parse(JSON.stringify(base));
  for (const e of edits) {
    const objects = objectsIn(v);
    const o = objects[e.at % objects.length]!;
    const keys = Object.keys(o);
    const key = keys.length ? keys[e.field % keys.length]! : 'x';
    const value = structuredClone(e.value); // fast-check's constants are shared objects
    if (e.op === 'delete') delete o[key];
    else if (e.op === 'add') o[`extra_${e.field % 5}`] = value;
    else if (e.op === 'proto') Object.defineProperty(o, '__proto__', { value: { polluted: true }, enumerable: true, writable: true, configurable: true });
    else o[key] = value;
  }
  return v;
});

describe('the unchanged check derived from the transcript record schemas', () => {
  it('has a check for every schema the model-call stage reads, and every real row of those types takes it', () => {
    expect(READ_ROWS.filter((r) => r.type === 'assistant').length).toBeGreaterThan(3);
    expect(READ_ROWS.some((r) => r.type === 'cost-state') && READ_ROWS.some((r) => r.type === 'api-request')).toBe(true);
    for (const row of READ_ROWS) expect(unchangedBy(schemaOfRow(row)!)!(row)).toBe(true);
    for (const block of BLOCKS) expect(unchangedBy(recordSchemas.block)!(block)).toBe(true);
  });

  it('never says "unchanged" where zod would reject or change a row, at any depth', () => {
    fc.assert(fc.property(mutatedDeep(READ_ROWS), (v) => {
      const schema = schemaOfRow(v);
      if (!schema) return; // the type itself was edited: toEntry would not read it with a schema
      if (!unchangedBy(schema)!(v)) return;
      const parsed = schema.safeParse(v);
      expect(parsed.success).toBe(true);
      expect(parsed.data).toStrictEqual(v);
    }), { numRuns: 3000 });
  });

  it('knows nullable, bounded numbers and string-keyed records, and declines other keys', () => {
    const nn = unchangedBy(z.looseObject({ n: z.number().nonnegative(), p: z.number().positive().optional(), s: z.string().nullable() }))!;
    expect(nn({ n: 0, s: null })).toBe(true);
    expect(nn({ n: -1, s: null })).toBe(false);
    expect(nn({ n: 1, p: 0, s: 'x' })).toBe(false);
    expect(nn({ n: 1, s: undefined })).toBe(false);
    const rec = unchangedBy(z.looseObject({ r: z.record(z.string(), z.number()) }))!;
    expect(rec({ r: { a: 1, b: 2 } })).toBe(true);
    expect(rec({ r: { a: 'x' } })).toBe(false);
    expect(rec({ r: JSON.parse('{"__proto__":1}') })).toBe(false); // a number, but zod's record would not keep that key
    expect(z.looseObject({ r: z.record(z.string(), z.number()) }).safeParse({ r: JSON.parse('{"__proto__":1}') }).data).not.toStrictEqual({ r: JSON.parse('{"__proto__":1}') });
    expect(unchangedBy(z.looseObject({ r: z.record(z.enum(['a']), z.number()) }))).toBeUndefined();
    expect(unchangedBy(z.looseObject({ n: z.number().multipleOf(2) }))).toBeUndefined();
    // checks and formats kept on the schema itself, and refinements of types whose checks are not read
    expect(unchangedBy(z.looseObject({ n: z.int() }))).toBeUndefined();
    expect(unchangedBy(z.looseObject({ e: z.email() }))).toBeUndefined();
    expect(unchangedBy(z.looseObject({ a: z.array(z.string()).min(1) }))).toBeUndefined();
    expect(unchangedBy(z.looseObject({ o: z.looseObject({ a: z.string() }).refine((v) => v.a !== 'x') }))).toBeUndefined();
    expect(unchangedBy(z.looseObject({ a: z.string() }).refine(() => true))).toBeUndefined();
  });
});
