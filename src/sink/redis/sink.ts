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

type Fields = Record<string, string | Buffer>;

function put(fields: Fields, key: string, v: string | number | null): void {
  if (v !== null && v !== '') fields[key] = String(v);
}

/** Flat fields for filtering plus one compact JSON field with the whole record. */
export function spanFields(s: SpanRecord): Fields {
  const f: Fields = { type: 'span', trace_id: s.traceId, span_id: s.spanId, name: s.name, status: s.status };
  put(f, 'parent_span_id', s.parentSpanId);
  put(f, 'session_id', s.sessionId);
  put(f, 'kind', s.kind);
  put(f, 'tool_name', s.toolName);
  put(f, 'error_type', s.errorType);
  put(f, 'performance_category', s.performanceCategory);
  put(f, 'duration_ms', s.durationMs);
  f.start_time = s.startTime;
  // Compact: what the flat fields do not already say. A Buffer, so the global and the session
  // entry share one encoding.
  const rest: Record<string, unknown> = { attributes: s.attributes, resource: s.resource };
  if (s.events.length) rest.events = s.events;
  if (s.endTime) rest.end_time = s.endTime;
  if (s.statusMessage) rest.status_message = s.statusMessage;
  f.json = Buffer.from(JSON.stringify(rest));
  return f;
}

export function logFields(l: LogRecordRow): Fields {
  const f: Fields = { type: 'log', record_id: l.recordId, time: l.time };
  put(f, 'trace_id', l.traceId);
  put(f, 'span_id', l.spanId);
  put(f, 'session_id', l.sessionId);
  put(f, 'event_name', l.eventName);
  put(f, 'severity_text', l.severityText);
  f.json = Buffer.from(JSON.stringify({ body: l.body, attributes: l.attributes, resource: l.resource }));
  return f;
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

  const trim = (threshold: number) => ({ TRIM: { strategy: 'MAXLEN' as const, strategyModifier: '~' as const, threshold } });

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
      const multi = client.multi();
      const sessions = new Set<string>();
      for (const s of batch.spans) {
        const fields = spanFields(s);
        multi.xAdd(globalSpansKey(prefix), '*', fields, trim(config.globalMaxLen));
        if (s.sessionId) {
          multi.xAdd(sessionKey(s.sessionId, prefix), '*', fields, trim(config.sessionMaxLen));
          sessions.add(s.sessionId);
        }
      }
      for (const l of batch.logs) {
        const fields = logFields(l);
        multi.xAdd(globalLogsKey(prefix), '*', fields, trim(config.globalMaxLen));
        if (l.sessionId) {
          multi.xAdd(sessionKey(l.sessionId, prefix), '*', fields, trim(config.sessionMaxLen));
          sessions.add(l.sessionId);
        }
      }
      for (const id of sessions) multi.expire(sessionKey(id, prefix), config.sessionTtlSeconds);
      multi.set(marker, '1', { expiration: { type: 'EX', value: MARKER_TTL_SECONDS } });
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
