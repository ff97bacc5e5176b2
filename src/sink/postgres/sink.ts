import type pg from 'pg';
import type { PostgresConfig } from '../config.js';
import { type Batch, type Destination, type Logger, safeJson } from '../destination.js';
import { DestinationError, classifyError } from '../failures.js';
import type { LogRecordRow, SpanRecord } from '../records.js';
import { migrate } from './migrate.js';
import { createPgPool } from './pool.js';

export interface PostgresSink extends Destination {
  /** The pool (available after start); the webhook outbox shares it. */
  readonly pool: pg.Pool;
  /** Creates partitions ahead and drops those past retention. */
  maintain(now?: Date): Promise<{ dropped: number }>;
  /** The exact span counts of the whole database (every replica's writes); [] until ready. */
  spanCounts(): Promise<SpanCount[]>;
}

export interface PostgresSinkOptions {
  log: Logger;
  migrationsDir?: string | undefined;
  now?: () => Date;
  /** Retry interval for migrations while the database is unreachable at start. */
  readyRetryMs?: number;
}

const SPAN_COLUMNS = `trace_id text, span_id text, parent_span_id text, session_id text, name text, kind text,
  otel_kind smallint, start_time timestamptz, end_time timestamptz, duration_ms double precision, status text,
  status_message text, error_type text, tool_name text, operation text, agent_type text, prompt_id text,
  performance_category text, scope text, attributes jsonb, resource jsonb, events jsonb, request_model text,
  response_model text, input_tokens bigint, output_tokens bigint, cache_read_tokens bigint,
  cache_creation_tokens bigint, cost_usd numeric, model_calls integer`;
const SPAN_NAMES = SPAN_COLUMNS.split(',').map((c) => c.trim().split(/\s+/)[0]).join(', ');
/**
 * The spans a statement actually inserted (not those another request or replica stored first) are
 * added to the exact counts in the same statement (migrations/0007_span_counts.sql). The counts go
 * in key order, so two replicas updating the same rows take their locks in one order.
 */
const COUNT_KEY = 'service_name, span_name, span_kind, status, tool_name';
const INSERT_SPANS = `WITH inserted AS (
  INSERT INTO spans (${SPAN_NAMES})
  SELECT ${SPAN_NAMES} FROM json_to_recordset($1::json) AS r(${SPAN_COLUMNS})
  ON CONFLICT DO NOTHING
  RETURNING coalesce(resource->>'service.name', '') AS service_name, name AS span_name,
    coalesce(kind, '') AS span_kind, status, coalesce(tool_name, '') AS tool_name, duration_ms)
INSERT INTO span_counts AS c (${COUNT_KEY}, calls, duration_ms_sum)
  SELECT ${COUNT_KEY}, count(*), coalesce(sum(duration_ms), 0) FROM inserted
  GROUP BY ${COUNT_KEY} ORDER BY ${COUNT_KEY}
  ON CONFLICT (${COUNT_KEY}) DO UPDATE
  SET calls = c.calls + EXCLUDED.calls, duration_ms_sum = c.duration_ms_sum + EXCLUDED.duration_ms_sum`;

/** One row of the exact counts: spans stored once, whichever replica stored them. */
export interface SpanCount {
  serviceName: string;
  spanName: string;
  /** claude_code.span.kind ('' when absent). */
  spanKind: string;
  status: 'unset' | 'ok' | 'error';
  /** gen_ai.tool.name ('' when absent). */
  toolName: string;
  calls: number;
  durationMsSum: number;
}

const LOG_COLUMNS = `record_id text, time timestamptz, observed_time timestamptz, trace_id text, span_id text,
  session_id text, event_name text, severity_text text, severity_number smallint, body jsonb, attributes jsonb,
  resource jsonb`;
const LOG_NAMES = LOG_COLUMNS.split(',').map((c) => c.trim().split(/\s+/)[0]).join(', ');
const INSERT_LOGS = `INSERT INTO log_records (${LOG_NAMES})
  SELECT ${LOG_NAMES} FROM json_to_recordset($1::json) AS r(${LOG_COLUMNS})
  ON CONFLICT DO NOTHING`;

/** The usage columns by name; a null one is left out of the row (json_to_recordset reads it as NULL). */
const USAGE_COLUMNS = [
  ['request_model', 'requestModel'], ['response_model', 'responseModel'], ['input_tokens', 'inputTokens'],
  ['output_tokens', 'outputTokens'], ['cache_read_tokens', 'cacheReadTokens'], ['cache_creation_tokens', 'cacheCreationTokens'],
  ['cost_usd', 'costUsd'], ['model_calls', 'modelCalls'],
] as const;

export function spanRow(s: SpanRecord): Record<string, unknown> {
  const row: Record<string, unknown> = {
    trace_id: s.traceId, span_id: s.spanId, parent_span_id: s.parentSpanId, session_id: s.sessionId,
    name: s.name, kind: s.kind, otel_kind: s.otelKind, start_time: s.startTime, end_time: s.endTime,
    duration_ms: s.durationMs, status: s.status, status_message: s.statusMessage, error_type: s.errorType,
    tool_name: s.toolName, operation: s.operation, agent_type: s.agentType, prompt_id: s.promptId,
    performance_category: s.performanceCategory, scope: s.scope, attributes: s.attributes,
    resource: s.resource, events: s.events,
  };
  for (const [column, field] of USAGE_COLUMNS) if (s.usage[field] !== null) row[column] = s.usage[field];
  return row;
}

function logRow(l: LogRecordRow): Record<string, unknown> {
  return {
    record_id: l.recordId, time: l.time, observed_time: l.observedTime, trace_id: l.traceId,
    span_id: l.spanId, session_id: l.sessionId, event_name: l.eventName, severity_text: l.severityText,
    severity_number: l.severityNumber, body: l.body, attributes: l.attributes, resource: l.resource,
  };
}

const day = (iso: string) => iso.slice(0, 10);

export function createPostgresSink(config: PostgresConfig, options: PostgresSinkOptions): PostgresSink {
  const { log } = options;
  const now = options.now ?? (() => new Date());
  let pool: pg.Pool | undefined;
  let ready = false;
  let stopped = false;
  let readyTimer: NodeJS.Timeout | undefined;
  let maintainTimer: NodeJS.Timeout | undefined;
  const partitions = new Set<string>();

  async function ensurePartitions(table: string, days: Iterable<string>): Promise<void> {
    for (const d of days) {
      const key = `${table}:${d}`;
      if (partitions.has(key)) continue;
      await pool!.query('SELECT claude_otel_ensure_partition($1, $2::date)', [table, d]);
      partitions.add(key);
    }
  }

  async function maintain(at: Date = now()): Promise<{ dropped: number }> {
    const days: string[] = [];
    for (let i = 0; i <= config.partitionsAhead; i++) days.push(day(new Date(at.getTime() + i * 86_400_000).toISOString()));
    await ensurePartitions('spans', days);
    await ensurePartitions('log_records', days);
    const cutoff = day(new Date(at.getTime() - config.retentionDays * 86_400_000).toISOString());
    let dropped = 0;
    for (const table of ['spans', 'log_records']) {
      const r = await pool!.query<{ n: number }>('SELECT claude_otel_drop_partitions_before($1, $2::date) AS n', [table, cutoff]);
      dropped += r.rows[0]?.n ?? 0;
    }
    if (dropped > 0) {
      partitions.clear();
      log.info('dropped partitions past retention', { dropped, cutoff });
    }
    return { dropped };
  }

  async function becomeReady(): Promise<void> {
    const result = await migrate(pool!, options.migrationsDir);
    if (result.applied.length) log.info('postgres migrations applied', { applied: result.applied });
    await maintain();
    ready = true;
  }

  function retryReady(): void {
    readyTimer = setTimeout(() => {
      becomeReady().catch((err) => {
        if (!stopped) {
          log.warn('postgres not ready, retrying', { error: (err as Error).message });
          retryReady();
        }
      });
    }, options.readyRetryMs ?? 2_000);
    readyTimer.unref();
  }

  async function insert(table: string, sql: string, rows: Record<string, unknown>[], days: Set<string>) {
    await ensurePartitions(table, days);
    try {
      await pool!.query(sql, [safeJson(rows)]);
    } catch (err) {
      // 23514: no partition for a row (dropped behind our back): forget the cache, retry once.
      if ((err as { code?: string }).code !== '23514') throw err;
      partitions.clear();
      await ensurePartitions(table, days);
      await pool!.query(sql, [safeJson(rows)]);
    }
  }

  return {
    name: 'postgres',
    get pool(): pg.Pool {
      if (!pool) throw new Error('postgres sink not started');
      return pool;
    },
    maintain,
    async spanCounts() {
      if (!pool || !ready) return [];
      const r = await pool.query<{ service_name: string; span_name: string; span_kind: string; status: SpanCount['status']; tool_name: string; calls: string; duration_ms_sum: number }>(
        `SELECT ${COUNT_KEY}, calls, duration_ms_sum FROM span_counts`,
      );
      return r.rows.map((x) => ({
        serviceName: x.service_name, spanName: x.span_name, spanKind: x.span_kind, status: x.status, toolName: x.tool_name,
        calls: Number(x.calls), durationMsSum: x.duration_ms_sum,
      }));
    },
    async start() {
      if (pool) return;
      pool = createPgPool({ url: config.url, max: config.poolSize, statementTimeoutMs: config.statementTimeoutMs, log });
      try {
        await becomeReady();
      } catch (err) {
        if (classifyError(err).kind === 'permanent' || /checksum|migration/.test((err as Error).message)) throw err;
        log.warn('postgres unreachable at start; will retry', { error: (err as Error).message });
        retryReady();
      }
      maintainTimer = setInterval(() => {
        if (ready) maintain().catch((err) => log.warn('partition maintenance failed', { error: (err as Error).message }));
      }, 3_600_000);
      maintainTimer.unref();
    },
    async consume(batch: Batch) {
      if (!pool || !ready) throw new DestinationError('postgres not ready', { kind: 'retryable', reason: 'postgres not ready' });
      if (batch.spans.length) {
        await insert('spans', INSERT_SPANS, batch.spans.map(spanRow), new Set(batch.spans.map((s) => day(s.startTime))));
      }
      if (batch.logs.length) {
        await insert('log_records', INSERT_LOGS, batch.logs.map(logRow), new Set(batch.logs.map((l) => day(l.time))));
      }
    },
    async shutdown() {
      if (stopped) return;
      stopped = true;
      clearTimeout(readyTimer);
      clearInterval(maintainTimer);
      const p = pool;
      if (p) await p.end().catch(() => {});
    },
  };
}
