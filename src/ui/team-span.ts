/**
 * Pure: the sink's records as the page's spans. The sink keeps a span twice, as a PostgreSQL row
 * (migrations/0001_spans.sql) and as a Redis stream entry (src/sink/redis/sink.ts, spanFields);
 * both become the local store's StoredSpan, so the page draws team spans with the same code.
 * Times arrive with microsecond precision (ISO strings, or epoch microseconds from SQL).
 */
import type { PlainAttributes, StoredSpan, StoredSpanEvent, StoredSpanKind, StoredStatusCode } from '../store/stored-span.js';

const OTEL_KINDS: readonly StoredSpanKind[] = ['internal', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS = new Set<StoredStatusCode>(['unset', 'ok', 'error']);
const ISO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)$/;

/** An ISO-8601 time (any fraction up to nanoseconds) → decimal epoch nanoseconds; undefined if not one. */
export function isoToNanos(iso: unknown): string | undefined {
  if (typeof iso !== 'string') return undefined;
  const m = ISO.exec(iso);
  if (!m) return undefined;
  const seconds = Date.parse(`${m[1]}${m[3]}`);
  if (!Number.isFinite(seconds)) return undefined;
  return (BigInt(seconds / 1000) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'))).toString();
}

const asObject = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const asStatus = (v: unknown): StoredStatusCode => (STATUS.has(v as StoredStatusCode) ? (v as StoredStatusCode) : 'unset');

function asEvents(v: unknown): StoredSpanEvent[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((e) => {
    const o = asObject(e);
    const at = isoToNanos(o.time);
    return typeof o.name === 'string' && at ? [{ name: o.name, timeUnixNano: at, attributes: asObject(o.attributes) as PlainAttributes }] : [];
  });
}

function build(base: { traceId: unknown; spanId: unknown; parentSpanId: unknown; name: unknown; kind: StoredSpanKind; start: string | undefined; end: string | undefined; status: unknown; statusMessage: unknown; attributes: unknown; events: unknown }): StoredSpan | undefined {
  if (typeof base.traceId !== 'string' || typeof base.spanId !== 'string' || typeof base.name !== 'string' || !base.start) return undefined;
  const span: StoredSpan = {
    traceId: base.traceId,
    spanId: base.spanId,
    name: base.name,
    kind: base.kind,
    startTimeUnixNano: base.start,
    endTimeUnixNano: base.end ?? base.start,
    status: { code: asStatus(base.status) },
    attributes: asObject(base.attributes) as PlainAttributes,
    events: asEvents(base.events),
  };
  if (typeof base.parentSpanId === 'string' && base.parentSpanId) span.parentSpanId = base.parentSpanId;
  if (typeof base.statusMessage === 'string' && base.statusMessage) span.status.message = base.statusMessage;
  return span;
}

/** A row of team-history's span query (times as epoch microseconds, text). */
export interface SpanRow {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  otel_kind: number | null;
  start_us: string;
  end_us: string | null;
  status: string;
  status_message: string | null;
  attributes: unknown;
  events: unknown;
}

const microsToNanos = (us: string | null): string | undefined => (us !== null && /^\d+$/.test(us) ? `${us}000` : undefined);

export function spanFromRow(row: SpanRow): StoredSpan | undefined {
  return build({
    traceId: row.trace_id,
    spanId: row.span_id,
    parentSpanId: row.parent_span_id,
    name: row.name,
    kind: OTEL_KINDS[row.otel_kind ?? 0] ?? 'internal',
    start: microsToNanos(row.start_us),
    end: microsToNanos(row.end_us),
    status: row.status,
    statusMessage: row.status_message,
    attributes: row.attributes,
    events: row.events,
  });
}

/** A global-stream entry's fields; undefined for log entries and anything malformed. */
export function spanFromEntry(fields: Record<string, string>): StoredSpan | undefined {
  if (fields.type !== 'span') return undefined;
  let rest: Record<string, unknown> = {};
  try {
    rest = asObject(JSON.parse(fields.json ?? '{}'));
  } catch {
    return undefined;
  }
  return build({
    traceId: fields.trace_id,
    spanId: fields.span_id,
    parentSpanId: fields.parent_span_id,
    name: fields.name,
    kind: 'internal', // the entry does not carry the OTLP span kind; the page does not draw it
    start: isoToNanos(fields.start_time),
    end: isoToNanos(rest.end_time),
    status: fields.status,
    statusMessage: rest.status_message,
    attributes: rest.attributes,
    events: rest.events,
  });
}
