/**
 * The fields of a stream entry (docs/sinks.md, "Redis Streams"): flat fields to filter on, then
 * one compact JSON field with the rest of the record. Pure.
 */
import type { Batch } from '../destination.js';
import type { LogRecordRow, SpanRecord } from '../records.js';

type Fields = Record<string, string>;

/**
 * Field/value pairs of a stream entry, appended to `out` (a command's argument array). Everything
 * is a string: node-redis then encodes a whole command as one string chunk, where a Buffer argument
 * would split it into three socket writes (the cost that dominated the sink's profile).
 */
function pushField(out: string[], key: string, v: string | number | null): void {
  if (v !== null && v !== '') out.push(key, typeof v === 'string' ? v : String(v));
}

export function spanFieldArgs(out: string[], s: SpanRecord): void {
  out.push('type', 'span', 'trace_id', s.traceId, 'span_id', s.spanId, 'name', s.name, 'status', s.status);
  pushField(out, 'parent_span_id', s.parentSpanId);
  pushField(out, 'session_id', s.sessionId);
  pushField(out, 'kind', s.kind);
  pushField(out, 'tool_name', s.toolName);
  pushField(out, 'error_type', s.errorType);
  pushField(out, 'performance_category', s.performanceCategory);
  pushField(out, 'duration_ms', s.durationMs);
  // Model calls and roll-ups (src/sink/usage.ts): absent on spans without usage.
  const u = s.usage;
  pushField(out, 'request_model', u.requestModel);
  pushField(out, 'response_model', u.responseModel);
  pushField(out, 'input_tokens', u.inputTokens);
  pushField(out, 'output_tokens', u.outputTokens);
  pushField(out, 'cache_read_tokens', u.cacheReadTokens);
  pushField(out, 'cache_creation_tokens', u.cacheCreationTokens);
  pushField(out, 'cost_usd', u.costUsd);
  pushField(out, 'model_calls', u.modelCalls);
  // Compact: what the flat fields do not already say.
  const rest: Record<string, unknown> = { attributes: s.attributes, resource: s.resource };
  if (s.events.length) rest.events = s.events;
  if (s.endTime) rest.end_time = s.endTime;
  if (s.statusMessage) rest.status_message = s.statusMessage;
  out.push('start_time', s.startTime, 'json', JSON.stringify(rest));
}

export function logFieldArgs(out: string[], l: LogRecordRow): void {
  out.push('type', 'log', 'record_id', l.recordId, 'time', l.time);
  pushField(out, 'trace_id', l.traceId);
  pushField(out, 'span_id', l.spanId);
  pushField(out, 'session_id', l.sessionId);
  pushField(out, 'event_name', l.eventName);
  pushField(out, 'severity_text', l.severityText);
  out.push('json', JSON.stringify({ body: l.body, attributes: l.attributes, resource: l.resource }));
}

const pairs = (flat: string[]): Fields => {
  const f: Fields = {};
  for (let i = 0; i < flat.length; i += 2) f[flat[i]!] = flat[i + 1]!;
  return f;
};

/** Flat fields for filtering plus one compact JSON field with the whole record (entry order). */
export function spanFields(s: SpanRecord): Fields {
  const out: string[] = [];
  spanFieldArgs(out, s);
  return pairs(out);
}

export function logFields(l: LogRecordRow): Fields {
  const out: string[] = [];
  logFieldArgs(out, l);
  return pairs(out);
}

/** Appends record i's fields (the batch's spans, then its logs) to out; returns its session id. */
export function recordArgs(batch: Batch, i: number, out: string[]): string | null | undefined {
  if (i < batch.spans.length) {
    const s = batch.spans[i]!;
    spanFieldArgs(out, s);
    return s.sessionId;
  }
  const l = batch.logs[i - batch.spans.length]!;
  logFieldArgs(out, l);
  return l.sessionId;
}
