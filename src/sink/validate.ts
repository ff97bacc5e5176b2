/**
 * The sink's edge: what a request and each record in it may hold, between the raw body and the
 * rows the destinations write. A request is refused whole (400, never retried) only when it cannot
 * be read at all: nesting deeper than `maxJsonDepth` (found by a byte scan BEFORE JSON.parse and
 * zod, so deep input never reaches a recursive validator), malformed JSON, or an envelope that is
 * not OTLP. Everything else is decided record by record: a record over a bound (a long session.id
 * that would break the btree row limit, a bad id, a time outside the accepted window that would
 * create a partition in the year 5138, too many or too deep attributes) is dropped with its reason,
 * and the rest of the batch is written (OTLP partialSuccess).
 */
import type { LimitsConfig } from './config.js';
import {
  type AnyValue,
  type KeyValue,
  type ParseResult,
  otlpLogRecordSchema,
  otlpSpanSchema,
  parseLogsEnvelope,
  parseTraceEnvelope,
  resourceSchema,
  scopeSchema,
} from './otlp-schema.js';
import {
  type LogRecordRow,
  type RejectReason,
  type Rejection,
  type SpanRecord,
  attributesToObject,
  normalizeLog,
  normalizeSpan,
  quote,
} from './records.js';

export interface Validated<T> {
  records: T[];
  /** Records dropped, by reason. */
  rejected: Map<RejectReason, number>;
  /** Up to five messages for the OTLP errorMessage. */
  errors: string[];
}

export const rejectedCount = (v: Validated<unknown>): number => [...v.rejected.values()].reduce((a, b) => a + b, 0);

export interface ValidateOptions {
  limits: LimitsConfig;
  now: () => Date;
}

const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The offset at which the body's JSON nesting passes `max`, or -1. A linear byte scan that knows
 * only strings and brackets (UTF-8 continuation bytes never equal these ASCII bytes); whether the
 * JSON is valid is JSON.parse's business.
 */
export function jsonDepthExceeded(body: Uint8Array, max: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > max) return i;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) depth--;
  }
  return -1;
}

/** UTF-8 length of `s` is over `max` (without encoding it when the answer is obvious). */
function overBytes(s: string, max: number): boolean {
  if (s.length > max) return true; // every UTF-16 unit is at least one UTF-8 byte
  if (s.length * 3 <= max) return false; // and at most three
  return Buffer.byteLength(s, 'utf8') > max;
}

/** Walks one attribute list: counts, key sizes, value sizes and nesting. Iterative, bounded. */
function checkAttributes(list: KeyValue[] | undefined, where: string, limits: LimitsConfig): Rejection | undefined {
  if (!list) return undefined;
  if (list.length > limits.maxAttributes) {
    return { reason: 'too_many_attributes', message: `${where}: ${list.length} attributes (limit ${limits.maxAttributes})` };
  }
  for (const kv of list) {
    if (overBytes(kv.key, limits.maxKeyBytes)) {
      return { reason: 'key_too_long', message: `${where}: attribute key ${quote(kv.key)} over ${limits.maxKeyBytes} bytes` };
    }
    const bad = checkValue(kv.value, `${where} attribute ${quote(kv.key)}`, limits);
    if (bad) return bad;
  }
  return undefined;
}

/** One AnyValue: nesting ≤ maxValueDepth, its strings together ≤ maxValueBytes, lists ≤ maxAttributes. */
export function checkValue(value: AnyValue | undefined, where: string, limits: LimitsConfig): Rejection | undefined {
  if (!value) return undefined;
  let bytes = 0;
  const stack: Array<[AnyValue, number]> = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (depth > limits.maxValueDepth) {
      return { reason: 'value_too_deep', message: `${where}: nested deeper than ${limits.maxValueDepth} levels` };
    }
    const s = v.stringValue ?? v.bytesValue;
    if (s !== undefined) bytes += s.length <= 64 ? s.length : Buffer.byteLength(s, 'utf8');
    else bytes += 8;
    // Both at once if a sender sets both (anyValueToJson reads arrayValue first): each is bounded.
    const items = v.arrayValue?.values ?? [];
    const pairs = v.kvlistValue?.values ?? [];
    for (const list of [items, pairs]) {
      if (list.length > limits.maxAttributes) {
        return { reason: 'too_many_attributes', message: `${where}: a list of ${list.length} values (limit ${limits.maxAttributes})` };
      }
    }
    for (const item of items) stack.push([item, depth + 1]);
    for (const kv of pairs) {
      if (overBytes(kv.key, limits.maxKeyBytes)) return { reason: 'key_too_long', message: `${where}: a key over ${limits.maxKeyBytes} bytes` };
      bytes += kv.key.length;
      if (kv.value) stack.push([kv.value, depth + 1]);
    }
    if (bytes > limits.maxValueBytes) {
      return { reason: 'value_too_long', message: `${where}: value over ${limits.maxValueBytes} bytes` };
    }
  }
  return undefined;
}

type Columns = Array<[string, string | null]>;

function checkColumns(columns: Columns, max: number, what: string): Rejection | undefined {
  for (const [name, v] of columns) {
    if (v !== null && overBytes(v, max)) {
      return { reason: 'column_too_long', message: `${what}: ${name} ${quote(v)} over ${max} bytes` };
    }
  }
  return undefined;
}

const DAY_MS = 86_400_000;

function window(o: ValidateOptions): { from: number; to: number } {
  const now = o.now().getTime();
  return { from: now - o.limits.pastDays * DAY_MS, to: now + o.limits.futureDays * DAY_MS };
}

function outOfWindow(ms: number, w: { from: number; to: number }, what: string, o: ValidateOptions): Rejection | undefined {
  if (ms >= w.from && ms <= w.to) return undefined;
  const iso = Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : String(ms);
  return {
    reason: 'time_out_of_window',
    message: `${what} ${iso} outside the accepted window (${o.limits.pastDays} days back, ${o.limits.futureDays} ahead)`,
  };
}

function spanBounds(r: SpanRecord, o: ValidateOptions, w: { from: number; to: number }): Rejection | undefined {
  const { limits } = o;
  const what = `span ${r.spanId}`;
  return (
    checkColumns([['name', r.name], ...(r.events.map((e) => ['event name', e.name]) as Columns)], limits.maxNameBytes, what) ??
    checkColumns(
      [
        ['session.id', r.sessionId], ['gen_ai.tool.name', r.toolName], ['error.type', r.errorType], ['claude_code.span.kind', r.kind],
        ['gen_ai.operation.name', r.operation], ['claude_code.agent.type', r.agentType], ['claude_code.prompt.id', r.promptId],
        ['claude_code.tool.performance_category', r.performanceCategory], ['scope', r.scope],
        ['gen_ai.request.model', r.usage.requestModel], ['gen_ai.response.model', r.usage.responseModel],
      ],
      limits.maxColumnBytes,
      what,
    ) ??
    checkColumns([['status.message', r.statusMessage]], limits.maxValueBytes, what) ??
    outOfWindow(r.startUnixMs, w, `${what} start`, o) ??
    (r.durationMs !== null ? outOfWindow(r.startUnixMs + r.durationMs, w, `${what} end`, o) : undefined)
  );
}

function collector<T>(): Validated<T> & { drop(r: Rejection, n?: number): void } {
  const out = {
    records: [] as T[],
    rejected: new Map<RejectReason, number>(),
    errors: [] as string[],
    drop(r: Rejection, n = 1) {
      if (n <= 0) return;
      out.rejected.set(r.reason, (out.rejected.get(r.reason) ?? 0) + n);
      if (out.errors.length < 5) out.errors.push(n > 1 ? `${r.message} (${n} records)` : r.message);
    },
  };
  return out;
}

const shapeError = (what: string, issues: { path: PropertyKey[]; message: string }[]): Rejection => {
  const first = issues[0];
  return { reason: 'invalid_record', message: `${what}: ${first ? `${first.path.map(String).join('.') || '(root)'}: ${first.message}` : 'invalid'}` };
};

/** A resource or scope that does not validate drops every record under it (each counted). */
function context(resource: unknown, scope: unknown, o: ValidateOptions) {
  // null is the protobuf-JSON spelling of an absent message.
  const r = resourceSchema.safeParse(resource ?? undefined);
  if (!r.success) return { error: shapeError('resource', r.error.issues) };
  const s = scopeSchema.safeParse(scope ?? undefined);
  if (!s.success) return { error: shapeError('scope', s.error.issues) };
  const bad = checkAttributes(r.data?.attributes, 'resource', o.limits);
  if (bad) return { error: bad };
  const scopeName = s.data?.name ?? null;
  if (scopeName !== null && overBytes(scopeName, o.limits.maxColumnBytes)) {
    return { error: { reason: 'column_too_long', message: `scope name ${quote(scopeName)} over ${o.limits.maxColumnBytes} bytes` } as Rejection };
  }
  return { resource: attributesToObject(r.data?.attributes), scope: scopeName };
}

/**
 * An ExportTraceServiceRequest (already JSON.parse'd from a depth-checked body) → the spans to
 * write and what was dropped. `ok: false` only for a body that is not an OTLP trace request.
 */
export function validateTraces(body: unknown, o: ValidateOptions): ParseResult<Validated<SpanRecord>> {
  const env = parseTraceEnvelope(body);
  if (!env.ok) return env;
  const out = collector<SpanRecord>();
  const w = window(o);
  for (const rs of env.value.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      const spans = ss.spans ?? [];
      const ctx = context(rs.resource, ss.scope, o);
      if (ctx.error) {
        out.drop(ctx.error, spans.length);
        continue;
      }
      for (const raw of spans) {
        const parsed = otlpSpanSchema.safeParse(raw);
        if (!parsed.success) {
          out.drop(shapeError('span', parsed.error.issues));
          continue;
        }
        const span = parsed.data;
        const events = span.events ?? [];
        const bad =
          (events.length > o.limits.maxEvents
            ? ({ reason: 'too_many_events', message: `span: ${events.length} events (limit ${o.limits.maxEvents})` } as Rejection)
            : undefined) ??
          checkAttributes(span.attributes, 'span', o.limits) ??
          events.reduce<Rejection | undefined>((b, e) => b ?? checkAttributes(e.attributes, 'span event', o.limits), undefined);
        if (bad) {
          out.drop(bad);
          continue;
        }
        const r = normalizeSpan(span, ctx.resource, ctx.scope);
        const rejection = 'reason' in r ? r : spanBounds(r, o, w);
        if (rejection) out.drop(rejection);
        else out.records.push(r as SpanRecord);
      }
    }
  }
  return { ok: true, value: out };
}

function logBounds(r: LogRecordRow, o: ValidateOptions, w: { from: number; to: number }): Rejection | undefined {
  const what = `log record ${r.recordId}`;
  return (
    checkColumns(
      [['session.id', r.sessionId], ['event name', r.eventName], ['severityText', r.severityText]],
      o.limits.maxColumnBytes,
      what,
    ) ?? outOfWindow(Date.parse(r.time), w, `${what} time`, o)
  );
}

/** An ExportLogsServiceRequest → the log records to write and what was dropped. */
export function validateLogs(body: unknown, o: ValidateOptions): ParseResult<Validated<LogRecordRow>> {
  const env = parseLogsEnvelope(body);
  if (!env.ok) return env;
  const out = collector<LogRecordRow>();
  const w = window(o);
  for (const rl of env.value.resourceLogs ?? []) {
    for (const sl of rl.scopeLogs ?? []) {
      const logs = sl.logRecords ?? [];
      const ctx = context(rl.resource, sl.scope, o);
      if (ctx.error) {
        out.drop(ctx.error, logs.length);
        continue;
      }
      for (const raw of logs) {
        const parsed = otlpLogRecordSchema.safeParse(raw);
        if (!parsed.success) {
          out.drop(shapeError('log record', parsed.error.issues));
          continue;
        }
        const rec = parsed.data;
        const bad = checkAttributes(rec.attributes, 'log record', o.limits) ?? checkValue(rec.body, 'log record body', o.limits);
        if (bad) {
          out.drop(bad);
          continue;
        }
        const r = normalizeLog(rec, ctx.resource, o.now);
        const rejection = 'reason' in r ? r : logBounds(r, o, w);
        if (rejection) out.drop(rejection);
        else out.records.push(r as LogRecordRow);
      }
    }
  }
  return { ok: true, value: out };
}
