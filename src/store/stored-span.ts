import { z } from 'zod';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Attributes, HrTime } from '@opentelemetry/api';

/**
 * One span as kept in the local store: plain JSON, times as decimal nanosecond strings
 * (epoch nanoseconds do not fit in a double).
 */
export type AttributeValue = string | number | boolean | null | Array<string | number | boolean | null>;
export type PlainAttributes = Record<string, AttributeValue>;

export type StoredSpanKind = 'internal' | 'server' | 'client' | 'producer' | 'consumer';
export type StoredStatusCode = 'unset' | 'ok' | 'error';

export interface StoredSpanEvent {
  name: string;
  timeUnixNano: string;
  attributes: PlainAttributes;
}

export interface StoredSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: StoredSpanKind;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  status: { code: StoredStatusCode; message?: string };
  attributes: PlainAttributes;
  events: StoredSpanEvent[];
}

const KINDS: readonly StoredSpanKind[] = ['internal', 'server', 'client', 'producer', 'consumer'];
const STATUS: readonly StoredStatusCode[] = ['unset', 'ok', 'error'];

/** HrTime [seconds, nanos] → decimal string of epoch nanoseconds. */
export function hrTimeToNanoString(time: HrTime): string {
  return (BigInt(Math.trunc(time[0])) * 1_000_000_000n + BigInt(Math.trunc(time[1]))).toString();
}

/** Decimal nanosecond string → milliseconds (float; precision to ~µs is plenty for display). */
export function nanoStringToMs(nanos: string): number {
  try {
    const n = BigInt(nanos);
    return Number(n / 1_000n) / 1_000;
  } catch {
    return Number.NaN;
  }
}

export function toPlainAttributes(attrs: Attributes | undefined): PlainAttributes {
  const out: PlainAttributes = {};
  if (!attrs) return out;
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      out[key] = value.map((v) => (v === undefined ? null : v));
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** Pure mapping from the SDK's ReadableSpan to the stored shape. */
export function toStoredSpan(span: ReadableSpan): StoredSpan {
  const ctx = span.spanContext();
  const stored: StoredSpan = {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    name: span.name,
    kind: KINDS[span.kind] ?? 'internal',
    startTimeUnixNano: hrTimeToNanoString(span.startTime),
    endTimeUnixNano: hrTimeToNanoString(span.endTime),
    status: { code: STATUS[span.status.code] ?? 'unset' },
    attributes: toPlainAttributes(span.attributes),
    events: span.events.map((e) => ({
      name: e.name,
      timeUnixNano: hrTimeToNanoString(e.time),
      attributes: toPlainAttributes(e.attributes),
    })),
  };
  const parent = span.parentSpanContext?.spanId;
  if (parent) stored.parentSpanId = parent;
  if (span.status.message) stored.status.message = span.status.message;
  return stored;
}

// ---- line format --------------------------------------------------------------------------

/** Version of the line format, written in every resource line. */
export const STORE_FORMAT_VERSION = 1;

export interface ResourceLine {
  type: 'resource';
  v: number;
  attributes: PlainAttributes;
}
export type SpanLine = { type: 'span' } & StoredSpan;

const attributeValue = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.null(),
  z.array(z.union([z.string(), z.number(), z.boolean(), z.null()])),
]);
const attributes = z.record(z.string(), attributeValue);
const nanos = z.string().regex(/^\d+$/);

const spanLineSchema = z.looseObject({
  type: z.literal('span'),
  traceId: z.string().min(1),
  spanId: z.string().min(1),
  parentSpanId: z.string().min(1).optional(),
  name: z.string(),
  kind: z.enum(KINDS as [StoredSpanKind, ...StoredSpanKind[]]).catch('internal'),
  startTimeUnixNano: nanos,
  endTimeUnixNano: nanos,
  status: z.looseObject({
    code: z.enum(STATUS as [StoredStatusCode, ...StoredStatusCode[]]).catch('unset'),
    message: z.string().optional(),
  }),
  attributes: attributes.catch({}),
  events: z
    .array(
      z.looseObject({
        name: z.string(),
        timeUnixNano: nanos,
        attributes: attributes.catch({}),
      }),
    )
    .catch([]),
});

const resourceLineSchema = z.looseObject({
  type: z.literal('resource'),
  v: z.number().optional(),
  attributes: attributes.catch({}),
});

const lineSchema = z.discriminatedUnion('type', [spanLineSchema, resourceLineSchema]);

export type ParsedLine =
  | { type: 'span'; span: StoredSpan }
  | { type: 'resource'; attributes: PlainAttributes };

export function encodeSpanLine(span: StoredSpan): string {
  return JSON.stringify({ type: 'span', ...span }) + '\n';
}

export function encodeResourceLine(attrs: PlainAttributes): string {
  const line: ResourceLine = { type: 'resource', v: STORE_FORMAT_VERSION, attributes: attrs };
  return JSON.stringify(line) + '\n';
}

/**
 * Parses one line; undefined for blank, truncated (a crash mid-write) or foreign lines.
 * Never throws.
 */
export function parseLine(line: string): ParsedLine | undefined {
  const trimmed = line.trim();
  if (!trimmed) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  const parsed = lineSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const d = parsed.data;
  if (d.type === 'resource') return { type: 'resource', attributes: d.attributes };
  const span: StoredSpan = {
    traceId: d.traceId,
    spanId: d.spanId,
    name: d.name,
    kind: d.kind,
    startTimeUnixNano: d.startTimeUnixNano,
    endTimeUnixNano: d.endTimeUnixNano,
    status: d.status.message === undefined ? { code: d.status.code } : { code: d.status.code, message: d.status.message },
    attributes: d.attributes,
    events: d.events.map((e) => ({ name: e.name, timeUnixNano: e.timeUnixNano, attributes: e.attributes })),
  };
  if (d.parentSpanId) span.parentSpanId = d.parentSpanId;
  return { type: 'span', span };
}
