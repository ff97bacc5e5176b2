/**
 * The team source's history: the sink's PostgreSQL (migrations/*.sql), read with read-only
 * credentials (the pool also sets default_transaction_read_only, so a role with more rights still
 * cannot write through here). One grouped query for the session list (the same counts as the local
 * store's summarizeSession: a span with status error counts as an error, a `session` span is the
 * root), one for a session's spans.
 */
import pg from 'pg';
import type { StoredSpan } from '../store/stored-span.js';
import { compareRows, type SessionRow } from './source.js';
import { spanFromRow, type SpanRow } from './team-span.js';

export interface TeamHistoryOptions {
  url: string;
  /** Sessions in the list (newest first). */
  limit?: number;
  /** An open session (no root span) with a span newer than this is shown as running. */
  runningWindowMs?: number;
  now?: () => number;
}

export interface TeamHistory {
  listSessions(query: string): Promise<SessionRow[]>;
  sessionRow(sessionId: string): Promise<SessionRow | undefined>;
  /** The session's row and spans, by id or unique prefix. */
  getSession(id: string): Promise<{ session: SessionRow; spans: StoredSpan[] } | undefined>;
  close(): Promise<void>;
}

const IS_ROOT = `coalesce(kind = 'session', parent_span_id IS NULL)`;
const SUMMARY_COLUMNS = `session_id, min(trace_id) FILTER (WHERE ${IS_ROOT}) AS root_trace_id, min(trace_id) AS any_trace_id,
  (extract(epoch FROM min(start_time)) * 1000)::float8 AS min_start_ms,
  (extract(epoch FROM max(coalesce(end_time, start_time))) * 1000)::float8 AS max_end_ms,
  (extract(epoch FROM min(start_time) FILTER (WHERE ${IS_ROOT})) * 1000)::float8 AS root_start_ms,
  (extract(epoch FROM max(end_time) FILTER (WHERE ${IS_ROOT})) * 1000)::float8 AS root_end_ms,
  (extract(epoch FROM max(ingested_at)) * 1000)::float8 AS last_ingest_ms,
  count(*) FILTER (WHERE kind = 'turn')::int AS turns, count(*) FILTER (WHERE kind = 'tool')::int AS tools,
  count(*) FILTER (WHERE status = 'error')::int AS errors, count(*)::int AS spans,
  coalesce(min(attributes->>'claude_code.cwd') FILTER (WHERE ${IS_ROOT}), min(attributes->>'claude_code.cwd'), min(resource->>'process.cwd')) AS cwd`;

export interface SummaryRow {
  session_id: string;
  root_trace_id: string | null;
  any_trace_id: string;
  min_start_ms: number;
  max_end_ms: number;
  root_start_ms: number | null;
  root_end_ms: number | null;
  last_ingest_ms: number;
  turns: number;
  tools: number;
  errors: number;
  spans: number;
  cwd: string | null;
}

/** Pure: an aggregate row as the page's session row. */
export function rowFromSummary(r: SummaryRow, nowMs: number, runningWindowMs: number): SessionRow {
  const open = r.root_start_ms === null;
  const startMs = r.root_start_ms ?? r.min_start_ms;
  const endMs = r.root_end_ms ?? r.max_end_ms;
  const row: SessionRow = {
    sessionId: r.session_id,
    fileKey: r.session_id,
    traceId: r.root_trace_id ?? r.any_trace_id,
    start: new Date(startMs).toISOString(),
    durationMs: Math.max(0, Math.round(endMs - startMs)),
    turns: r.turns,
    tools: r.tools,
    errors: r.errors,
    spans: r.spans,
    open,
    running: open && nowMs - Math.max(r.max_end_ms, r.last_ingest_ms) < runningWindowMs,
    openSpans: 0,
  };
  if (!open) row.end = new Date(endMs).toISOString();
  if (r.cwd) row.cwd = r.cwd;
  return row;
}

/** `%`, `_` and `\` taken literally in an ILIKE pattern. */
const likeLiteral = (q: string) => q.replace(/[\\%_]/g, (c) => `\\${c}`);

export function createTeamHistory(options: TeamHistoryOptions): TeamHistory {
  const limit = options.limit ?? 500;
  const windowMs = options.runningWindowMs ?? 10 * 60_000;
  const now = options.now ?? Date.now;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: 4,
    connectionTimeoutMillis: 3_000,
    idleTimeoutMillis: 30_000,
    application_name: 'claude-otel-ui',
    options: '-c timezone=UTC -c statement_timeout=10000 -c default_transaction_read_only=on',
  });
  pool.on('error', () => {}); // an idle client lost (server restart): the pool replaces it
  let closed = false;
  const toRow = (r: SummaryRow) => rowFromSummary(r, now(), windowMs);

  async function summaries(where: string, having: string, params: unknown[]): Promise<SessionRow[]> {
    const sql = `SELECT ${SUMMARY_COLUMNS} FROM spans WHERE session_id IS NOT NULL ${where}
      GROUP BY session_id ${having} ORDER BY min(start_time) DESC, session_id LIMIT ${limit}`;
    const rows = (await pool.query<SummaryRow>(sql, params)).rows.map(toRow);
    return rows.sort(compareRows);
  }

  return {
    async listSessions(query) {
      const q = query.trim();
      if (!q) return summaries('', '', []);
      return summaries('', `HAVING bool_or(session_id ILIKE $1 OR trace_id ILIKE $1 OR prompt_id ILIKE $1 OR attributes->>'gen_ai.tool.call.id' ILIKE $1)`, [`%${likeLiteral(q)}%`]);
    },
    async sessionRow(sessionId) {
      return (await summaries('AND session_id = $1', '', [sessionId]))[0];
    },
    async getSession(id) {
      const matches = await pool.query<{ session_id: string }>(
        `SELECT session_id FROM (SELECT DISTINCT session_id FROM spans WHERE session_id LIKE $2) s ORDER BY session_id = $1 DESC LIMIT 2`,
        [id, `${likeLiteral(id)}%`],
      );
      const exact = matches.rows.find((r) => r.session_id === id);
      const sessionId = exact?.session_id ?? (matches.rows.length === 1 ? matches.rows[0]!.session_id : undefined);
      if (!sessionId) return undefined;
      const [session] = await summaries('AND session_id = $1', '', [sessionId]);
      if (!session) return undefined;
      const rows = await pool.query<SpanRow>(
        `SELECT trace_id, span_id, parent_span_id, name, otel_kind,
           (extract(epoch FROM start_time) * 1000000)::bigint::text AS start_us,
           (extract(epoch FROM end_time) * 1000000)::bigint::text AS end_us,
           status, status_message, attributes, events
         FROM spans WHERE session_id = $1 ORDER BY start_time, span_id`,
        [sessionId],
      );
      return { session, spans: rows.rows.flatMap((r) => spanFromRow(r) ?? []) };
    },
    async close() {
      if (!closed) {
        closed = true;
        await pool.end();
      }
    },
  };
}
