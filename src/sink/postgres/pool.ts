import pg from 'pg';
import type { Logger } from '../destination.js';

export interface PoolOptions {
  url: string;
  max?: number;
  statementTimeoutMs?: number;
  log: Logger;
  applicationName?: string;
}

/** A pool whose sessions run in UTC (daily partitions are UTC days) with bounded timeouts. */
export function createPgPool(o: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: o.url,
    max: o.max ?? 10,
    connectionTimeoutMillis: 3_000,
    idleTimeoutMillis: 30_000,
    application_name: o.applicationName ?? 'claude-otel-sink',
    options: `-c timezone=UTC -c statement_timeout=${o.statementTimeoutMs ?? 10_000}`,
  });
  // Idle clients die when the server restarts; the pool replaces them. Never crash on it.
  pool.on('error', (err) => o.log.warn('postgres idle client error', { error: err.message }));
  return pool;
}
