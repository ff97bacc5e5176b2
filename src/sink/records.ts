/**
 * OTLP records → the flat rows the destinations write (promoted columns plus JSON maps). Pure
 * mapping, one record at a time; the bounds a record must respect are checked in validate.ts.
 */
import { createHash } from 'node:crypto';
import type { AnyValue, KeyValue, LogsRequest, OtlpLogRecord, OtlpSpan, TraceRequest } from './otlp-schema.js';
import { type SpanUsage, spanUsage } from './usage.js';

/** A span flattened for the destinations: promoted columns plus JSON maps. Pure data. */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  sessionId: string | null;
  name: string;
  /** `claude_code.span.kind` (session, segment, turn, tool, subagent, compaction). */
  kind: string | null;
  otelKind: number;
  /** ISO-8601 with microseconds (Postgres precision); part of the idempotency key. */
  startTime: string;
  endTime: string | null;
  startUnixMs: number;
  durationMs: number | null;
  status: 'unset' | 'ok' | 'error';
  statusMessage: string | null;
  errorType: string | null;
  toolName: string | null;
  operation: string | null;
  agentType: string | null;
  promptId: string | null;
  performanceCategory: string | null;
  /** Models, tokens and cost of a chat span, or the roll-up of a turn, subagent or session span. */
  usage: SpanUsage;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  events: SpanEventRecord[];
  scope: string | null;
}

export interface SpanEventRecord {
  name: string;
  time: string | null;
  attributes: Record<string, unknown>;
}

export interface LogRecordRow {
  /** Content hash: the same record replayed gets the same id. */
  recordId: string;
  time: string;
  observedTime: string | null;
  traceId: string | null;
  spanId: string | null;
  sessionId: string | null;
  eventName: string | null;
  severityText: string | null;
  severityNumber: number | null;
  body: unknown;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

/** Why a record was dropped: the `reason` label of claude_otel_sink_records_rejected_total. */
export type RejectReason =
  | 'invalid_record'
  | 'invalid_id'
  | 'invalid_time'
  | 'time_out_of_window'
  | 'column_too_long'
  | 'value_too_long'
  | 'key_too_long'
  | 'too_many_attributes'
  | 'too_many_events'
  | 'value_too_deep';

export interface Rejection {
  reason: RejectReason;
  message: string;
}

const reject = (reason: RejectReason, message: string): Rejection => ({ reason, message });
/** A value quoted in an error message, cut short (the message goes back to the sender and to logs). */
export const quote = (v: unknown): string => {
  const s = String(v);
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…(${s.length} chars)` : s);
};

export interface Normalized<T> {
  records: T[];
  rejected: number;
  errors: string[];
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

export function anyValueToJson(v: AnyValue | undefined): unknown {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) {
    const n = Number(v.intValue);
    return Number.isSafeInteger(n) ? n : String(v.intValue);
  }
  if (v.doubleValue !== undefined) return typeof v.doubleValue === 'number' ? v.doubleValue : String(v.doubleValue);
  if (v.bytesValue !== undefined) return v.bytesValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(anyValueToJson);
  if (v.kvlistValue) return attributesToObject(v.kvlistValue.values);
  return null;
}

export function attributesToObject(kvs: KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of kvs ?? []) {
    const v = anyValueToJson(kv.value);
    // `__proto__` is data here, not the prototype setter.
    if (kv.key === '__proto__') Object.defineProperty(out, kv.key, { value: v, enumerable: true, writable: true, configurable: true });
    else out[kv.key] = v;
  }
  return out;
}

/** uint64 nanoseconds → ISO string with microsecond precision; null for 0/absent. */
export function nanosToIso(n: string | number | undefined): string | null {
  if (n === undefined) return null;
  const ns = BigInt(n);
  if (ns === 0n) return null;
  const us = ns / 1000n;
  const ms = Number(us / 1000n);
  const micro = Number(us % 1000n);
  const iso = new Date(ms).toISOString(); // 2024-01-01T00:00:00.123Z
  return `${iso.slice(0, 23)}${String(micro).padStart(3, '0')}Z`;
}

function nanosToMs(n: string | number | undefined): number | null {
  if (n === undefined) return null;
  const ns = BigInt(n);
  return ns === 0n ? null : Number(ns / 1000n) / 1000;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

function sessionIdOf(attrs: Record<string, unknown>, resource: Record<string, unknown>): string | null {
  return str(attrs['session.id']) ?? str(attrs['gen_ai.conversation.id']) ?? str(resource['session.id']);
}

const STATUS = ['unset', 'ok', 'error'] as const;

export function normalizeSpan(
  span: OtlpSpan,
  resource: Record<string, unknown>,
  scope: string | null,
): SpanRecord | Rejection {
  const traceId = span.traceId.toLowerCase();
  const spanId = span.spanId.toLowerCase();
  if (!TRACE_ID.test(traceId) || traceId === ZERO_TRACE) return reject('invalid_id', `invalid traceId ${quote(span.traceId)}`);
  if (!SPAN_ID.test(spanId) || spanId === ZERO_SPAN) return reject('invalid_id', `invalid spanId ${quote(span.spanId)}`);
  const parent = span.parentSpanId ? span.parentSpanId.toLowerCase() : null;
  if (parent !== null && !SPAN_ID.test(parent)) return reject('invalid_id', `invalid parentSpanId ${quote(span.parentSpanId)}`);
  const startTime = nanosToIso(span.startTimeUnixNano);
  if (!startTime) return reject('invalid_time', `span ${spanId} has no startTimeUnixNano`);
  const startMs = nanosToMs(span.startTimeUnixNano)!;
  const endMs = nanosToMs(span.endTimeUnixNano);
  const attrs = attributesToObject(span.attributes);
  const statusCode = span.status?.code ?? 0;
  return {
    traceId,
    spanId,
    parentSpanId: parent === ZERO_SPAN ? null : parent,
    sessionId: sessionIdOf(attrs, resource),
    name: span.name,
    kind: str(attrs['claude_code.span.kind']),
    otelKind: span.kind ?? 0,
    startTime,
    endTime: nanosToIso(span.endTimeUnixNano),
    startUnixMs: startMs,
    durationMs: endMs === null ? null : Math.max(0, Math.round((endMs - startMs) * 1000) / 1000),
    status: STATUS[statusCode] ?? 'unset',
    statusMessage: str(span.status?.message),
    errorType: str(attrs['error.type']),
    toolName: str(attrs['gen_ai.tool.name']),
    operation: str(attrs['gen_ai.operation.name']),
    agentType: str(attrs['claude_code.agent.type']),
    promptId: str(attrs['claude_code.prompt.id']),
    performanceCategory: str(attrs['claude_code.tool.performance_category']),
    usage: spanUsage(attrs),
    attributes: attrs,
    resource,
    events: (span.events ?? []).map((e) => ({
      name: e.name,
      time: nanosToIso(e.timeUnixNano),
      attributes: attributesToObject(e.attributes),
    })),
    scope,
  };
}

export function normalizeTraces(req: TraceRequest): Normalized<SpanRecord> {
  const out: Normalized<SpanRecord> = { records: [], rejected: 0, errors: [] };
  for (const rs of req.resourceSpans ?? []) {
    const resource = attributesToObject(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        const r = normalizeSpan(span, resource, ss.scope?.name ?? null);
        if ('reason' in r) {
          out.rejected++;
          if (out.errors.length < 5) out.errors.push(r.message);
        } else out.records.push(r);
      }
    }
  }
  return out;
}

function optionalId(id: string | undefined, re: RegExp, zero: string): string | null | false {
  if (!id) return null;
  const v = id.toLowerCase();
  if (v === zero) return null;
  return re.test(v) ? v : false;
}

export function normalizeLog(
  rec: OtlpLogRecord,
  resource: Record<string, unknown>,
  now: () => Date,
): LogRecordRow | Rejection {
  const traceId = optionalId(rec.traceId, TRACE_ID, ZERO_TRACE);
  const spanId = optionalId(rec.spanId, SPAN_ID, ZERO_SPAN);
  if (traceId === false) return reject('invalid_id', `invalid traceId ${quote(rec.traceId)}`);
  if (spanId === false) return reject('invalid_id', `invalid spanId ${quote(rec.spanId)}`);
  const attrs = attributesToObject(rec.attributes);
  const body = anyValueToJson(rec.body);
  const time = nanosToIso(rec.timeUnixNano) ?? nanosToIso(rec.observedTimeUnixNano) ?? now().toISOString();
  const eventName = str(rec.eventName) ?? str(attrs['event.name']);
  const recordId = createHash('sha256')
    .update(JSON.stringify([traceId, spanId, time, eventName, body, attrs]))
    .digest('hex')
    .slice(0, 32);
  return {
    recordId,
    time,
    observedTime: nanosToIso(rec.observedTimeUnixNano),
    traceId,
    spanId,
    sessionId: sessionIdOf(attrs, resource),
    eventName,
    severityText: str(rec.severityText),
    severityNumber: rec.severityNumber ?? null,
    body,
    attributes: attrs,
    resource,
  };
}

export function normalizeLogs(req: LogsRequest, now: () => Date = () => new Date()): Normalized<LogRecordRow> {
  const out: Normalized<LogRecordRow> = { records: [], rejected: 0, errors: [] };
  for (const rl of req.resourceLogs ?? []) {
    const resource = attributesToObject(rl.resource?.attributes);
    for (const sl of rl.scopeLogs ?? []) {
      for (const rec of sl.logRecords ?? []) {
        const r = normalizeLog(rec, resource, now);
        if ('reason' in r) {
          out.rejected++;
          if (out.errors.length < 5) out.errors.push(r.message);
        } else out.records.push(r);
      }
    }
  }
  return out;
}
