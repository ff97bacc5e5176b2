import { createHash } from 'node:crypto';
import { createClient } from 'redis';
import type { RedisConfig } from '../config.js';
import type { Batch, Destination, Logger } from '../destination.js';
import { DestinationError } from '../failures.js';
import type { LogRecordRow, SpanRecord } from '../records.js';
import { REDIS_KEY_PREFIX, batchMarkerKey, globalLogsKey, globalSpansKey, sessionKey } from './keys.js';

export interface RedisSinkOptions {
  log: Logger;
  /** Key prefix; tests use their own to stay isolated. */
  keyPrefix?: string;
}

/** How long a batch marker suppresses a replay of the same batch (collector retries). */
const MARKER_TTL_SECONDS = 3_600;
const MARKER_TTL = String(MARKER_TTL_SECONDS);

type Fields = Record<string, string>;

/**
 * Field/value pairs of a stream entry, appended to `out` (a command's argument array). Everything
 * is a string: node-redis then encodes a whole command as one string chunk, where a Buffer argument
 * would split it into three socket writes (the cost that dominated the sink's profile).
 */
function pushField(out: string[], key: string, v: string | number | null): void {
  if (v !== null && v !== '') out.push(key, typeof v === 'string' ? v : String(v));
}

function spanFieldArgs(out: string[], s: SpanRecord): void {
  out.push('type', 'span', 'trace_id', s.traceId, 'span_id', s.spanId, 'name', s.name, 'status', s.status);
  pushField(out, 'parent_span_id', s.parentSpanId);
  pushField(out, 'session_id', s.sessionId);
  pushField(out, 'kind', s.kind);
  pushField(out, 'tool_name', s.toolName);
  pushField(out, 'error_type', s.errorType);
  pushField(out, 'performance_category', s.performanceCategory);
  pushField(out, 'duration_ms', s.durationMs);
  // Compact: what the flat fields do not already say.
  const rest: Record<string, unknown> = { attributes: s.attributes, resource: s.resource };
  if (s.events.length) rest.events = s.events;
  if (s.endTime) rest.end_time = s.endTime;
  if (s.statusMessage) rest.status_message = s.statusMessage;
  out.push('start_time', s.startTime, 'json', JSON.stringify(rest));
}

function logFieldArgs(out: string[], l: LogRecordRow): void {
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

function batchHash(batch: Batch): string {
  const h = createHash('sha256');
  for (const s of batch.spans) h.update(`${s.traceId}/${s.spanId}/${s.startTime}/${s.endTime ?? ''};`);
  for (const l of batch.logs) h.update(`${l.recordId};`);
  return h.digest('hex').slice(0, 32);
}

export function createRedisSink(config: RedisConfig, options: RedisSinkOptions): Destination {
  const { log } = options;
  const prefix = options.keyPrefix ?? REDIS_KEY_PREFIX;
  const client = createClient({
    url: config.url,
    // Fail fast while disconnected (→ 503) instead of queueing commands in memory.
    disableOfflineQueue: true,
    commandOptions: { timeout: config.commandTimeoutMs },
    socket: { connectTimeout: 3_000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2_000) },
  });
  let lastError = '';
  client.on('error', (err: Error) => {
    if (err.message !== lastError) log.warn('redis connection error', { error: err.message });
    lastError = err.message;
  });
  client.on('ready', () => {
    if (lastError) log.info('redis connection restored');
    lastError = '';
  });
  let started = false;
  let stopped = false;

  const spansKey = globalSpansKey(prefix);
  const logsKey = globalLogsKey(prefix);
  const globalMaxLen = String(config.globalMaxLen);
  const sessionMaxLen = String(config.sessionMaxLen);
  const sessionTtl = String(config.sessionTtlSeconds);

  return {
    name: 'redis',
    async start() {
      if (started || stopped) return;
      started = true;
      // Do not block start on an unreachable Redis: writes answer 503 until it is back.
      client.connect().catch((err: Error) => log.warn('redis connect failed; retrying', { error: err.message }));
    },
    async consume(batch: Batch) {
      if (!client.isReady) throw new DestinationError('redis not connected', { kind: 'retryable', reason: 'redis not connected' });
      if (!batch.spans.length && !batch.logs.length) return;
      const marker = batchMarkerKey(batchHash(batch), prefix);
      if ((await client.exists(marker)) === 1) return; // replay of a batch already written
      // One pipelined round trip (MULTI/EXEC would make it all-or-nothing but costs ~25 % of the
      // throughput): a connection lost mid-batch can leave part of it written, and the retry then
      // repeats that part. Consumers de-duplicate on (trace_id, span_id) / record_id.
      // Commands go in as pre-built argument arrays (XADD key MAXLEN ~ n * field value ...): the
      // global and the session entry share one field list, nothing is parsed per command.
      const multi = client.multi();
      const sessions = new Set<string>();
      const add = (key: string, maxLen: string, fields: string[]) => {
        const args = ['XADD', key, 'MAXLEN', '~', maxLen, '*'];
        for (let i = 0; i < fields.length; i++) args.push(fields[i]!);
        multi.addCommand(args);
      };
      const fields: string[] = [];
      for (const s of batch.spans) {
        fields.length = 0;
        spanFieldArgs(fields, s);
        add(spansKey, globalMaxLen, fields);
        if (s.sessionId) {
          add(sessionKey(s.sessionId, prefix), sessionMaxLen, fields);
          sessions.add(s.sessionId);
        }
      }
      for (const l of batch.logs) {
        fields.length = 0;
        logFieldArgs(fields, l);
        add(logsKey, globalMaxLen, fields);
        if (l.sessionId) {
          add(sessionKey(l.sessionId, prefix), sessionMaxLen, fields);
          sessions.add(l.sessionId);
        }
      }
      for (const id of sessions) multi.addCommand(['EXPIRE', sessionKey(id, prefix), sessionTtl]);
      multi.addCommand(['SET', marker, '1', 'EX', MARKER_TTL]);
      await multi.execAsPipeline();
    },
    async shutdown() {
      if (stopped) return;
      stopped = true;
      if (client.isOpen) await client.close().catch(() => client.destroy());
      else if (started) client.destroy();
    },
  };
}
