/**
 * A check derived from a zod object schema (a hook event, a transcript record) that answers "would
 * zod accept this value unchanged?" without zod's per-field work. Most inputs are exactly what the
 * schema expects; for those, parseHookEvent (src/events/schema.ts) and toEntry
 * (src/model-calls/records.ts) use the decoded value as it is. Anything else (a field of the wrong type that a
 * lenient field would drop, a missing required field, a `__proto__` key, a schema piece this module
 * does not know) answers false, and zod parses the value as before. So zod stays the one definition
 * of a valid event, and its result is the same either way (test/unit/shared/fast-check.test.ts
 * drives random and mutated payloads through both).
 *
 * Why: inside the agent, zod's safeParse took 7–8 µs per event and an eighth of everything the
 * agent allocates per event, and the assistant rows' schema 4 % of the agent's CPU with transcripts
 * on (docs/benchmarks.md); this check takes a fraction of a µs and allocates nothing.
 */
import type { z } from 'zod';

type Check = (value: unknown) => boolean;

interface Def {
  type: string;
  innerType?: z.ZodType;
  element?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  values?: unknown[];
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  check?: string;
  format?: string;
  checks?: { _zod: { def: { check: string; minimum?: number; maximum?: number; value?: unknown; inclusive?: boolean } } }[];
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** A value check for one schema, or undefined when the schema uses anything not handled here. */
function valueCheck(schema: z.ZodType): Check | undefined {
  const def = defOf(schema);
  // A check or format on the schema itself (z.int(), z.email(), ...), or refinements on a type
  // whose checks are not read below: not understood, so zod decides.
  if (def.check !== undefined || def.format !== undefined) return undefined;
  if (def.checks?.length && def.type !== 'string' && def.type !== 'number') return undefined;
  switch (def.type) {
    case 'unknown':
      return () => true;
    case 'string': {
      let min = 0;
      let max = Infinity;
      for (const c of def.checks ?? []) {
        const d = c._zod.def;
        if (d.check === 'min_length' && d.minimum !== undefined) min = d.minimum;
        else if (d.check === 'max_length' && d.maximum !== undefined) max = d.maximum;
        else return undefined;
      }
      return (v) => typeof v === 'string' && v.length >= min && v.length <= max;
    }
    case 'number': {
      const bounds: Check[] = [];
      for (const c of def.checks ?? []) {
        const d = c._zod.def;
        if (typeof d.value !== 'number') return undefined;
        const bound = d.value;
        if (d.check === 'greater_than') bounds.push(d.inclusive ? (v) => (v as number) >= bound : (v) => (v as number) > bound);
        else if (d.check === 'less_than') bounds.push(d.inclusive ? (v) => (v as number) <= bound : (v) => (v as number) < bound);
        else return undefined;
      }
      return (v) => typeof v === 'number' && Number.isFinite(v) && bounds.every((b) => b(v));
    }
    case 'boolean':
      return (v) => typeof v === 'boolean';
    case 'literal': {
      const values = def.values ?? [];
      return (v) => values.includes(v);
    }
    case 'optional': {
      const inner = def.innerType && valueCheck(def.innerType);
      return inner && ((v) => v === undefined || inner(v));
    }
    // A lenient field (`.optional().catch(undefined)`): zod keeps a value that passes and replaces
    // one that does not, so only a passing value is "unchanged".
    case 'catch':
      return def.innerType && valueCheck(def.innerType);
    case 'nullable': {
      const inner = def.innerType && valueCheck(def.innerType);
      return inner && ((v) => v === null || inner(v));
    }
    case 'record': {
      // Only records keyed by plain strings: any own key of a decoded object passes those.
      const key = def.keyType && defOf(def.keyType);
      const value = def.valueType && valueCheck(def.valueType);
      if (!key || key.type !== 'string' || key.checks?.length || !value) return undefined;
      return (v) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.hasOwn(v, '__proto__')) return false;
        for (const k in v) if (Object.hasOwn(v, k) && !value((v as Record<string, unknown>)[k])) return false;
        return true;
      };
    }
    case 'array': {
      const element = def.element && valueCheck(def.element);
      return element && ((v) => Array.isArray(v) && v.every(element));
    }
    case 'object':
      return objectCheck(schema);
    default:
      return undefined;
  }
}

/** A check for a (loose or strict) object schema: every declared field passes, nothing else to drop. */
function objectCheck(schema: z.ZodType): Check | undefined {
  const def = defOf(schema);
  if (!def.shape || def.checks?.length) return undefined; // a refined object: zod decides
  const loose = def.catchall !== undefined && defOf(def.catchall).type === 'unknown';
  if (def.catchall !== undefined && !loose) return undefined;
  const fields: { key: string; check: Check; required: boolean }[] = [];
  for (const [key, field] of Object.entries(def.shape)) {
    const check = valueCheck(field);
    if (!check) return undefined;
    const t = defOf(field).type;
    fields.push({ key, check, required: t !== 'optional' && t !== 'catch' });
  }
  const declared = new Set(fields.map((f) => f.key));
  return (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
    if (Object.hasOwn(v, '__proto__')) return false;
    const o = v as Record<string, unknown>;
    for (const f of fields) {
      if (!Object.hasOwn(o, f.key)) {
        if (f.required) return false;
        continue;
      }
      if (!f.check(o[f.key])) return false;
    }
    if (!loose) for (const key in o) if (Object.hasOwn(o, key) && !declared.has(key)) return false; // zod would strip it
    return true;
  };
}

/** The check for one object schema (a hook event, a transcript record), or undefined: then always use zod. */
export function unchangedBy(schema: z.ZodType): Check | undefined {
  return objectCheck(schema);
}

/**
 * `schema.safeParse`, except that a value zod would return unchanged is returned as it is (no
 * copy, none of zod's per-field work). The one way the stages use the check.
 */
export function fastSafeParse<T extends z.ZodType>(schema: T): (value: unknown) => z.ZodSafeParseResult<z.infer<T>> {
  const unchanged = unchangedBy(schema);
  if (!unchanged) return (value) => schema.safeParse(value);
  return (value) => (unchanged(value) ? { success: true, data: value as z.infer<T> } : schema.safeParse(value));
}
