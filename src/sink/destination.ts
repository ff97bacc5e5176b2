import type { LogRecordRow, SpanRecord } from './records.js';

/** What one OTLP request turns into. */
export interface Batch {
  spans: SpanRecord[];
  logs: LogRecordRow[];
  /** Came with the configured bearer token; followers (webhooks) only see batches where this is true. */
  authenticated?: boolean;
}

/** A sink author writes `consume`; timeouts and failure mapping wrap it in the server. */
export interface Destination {
  readonly name: string;
  start(): Promise<void>;
  consume(batch: Batch): Promise<void>;
  /** Idempotent; safe without start(). */
  shutdown(): Promise<void>;
}

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createConsoleLogger(stream: NodeJS.WritableStream = process.stderr): Logger {
  const write = (level: string, msg: string, fields?: Record<string, unknown>) =>
    stream.write(`${JSON.stringify({ time: new Date().toISOString(), level, component: 'sink', msg, ...fields })}\n`);
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** JSON without NUL characters (Postgres jsonb/text reject \u0000). */
export function safeJson(value: unknown): string {
  const s = JSON.stringify(value);
  return s.includes('\\u0000') ? JSON.stringify(value, (_k, v) => (typeof v === 'string' ? v.replaceAll('\u0000', '') : v)) : s;
}
