/**
 * The one place that decides whether a failure is worth retrying.
 * Backend errors → retryable (answer 503, the collector retries) or permanent (answer 400).
 * Webhook HTTP statuses → success | retryable(after?) | gone | permanent.
 */
export type Failure =
  | { kind: 'retryable'; reason: string; retryAfterMs?: number | undefined }
  | { kind: 'permanent'; reason: string };

export type DeliveryOutcome =
  | { kind: 'success' }
  | { kind: 'retryable'; reason: string; retryAfterMs?: number | undefined }
  | { kind: 'gone'; reason: string }
  | { kind: 'permanent'; reason: string };

/** Thrown by a destination to carry an already-made decision. */
export class DestinationError extends Error {
  override name = 'DestinationError';
  constructor(
    message: string,
    readonly failure: Failure,
  ) {
    super(message);
  }
}

const RETRYABLE_NODE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH',
  'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);
// SQLSTATE classes a retry can fix: connection, resources, operator intervention, system.
const RETRYABLE_SQLSTATE_CLASSES = new Set(['08', '53', '57', '58', '40']);
const RETRYABLE_SQLSTATES = new Set(['55P03', '55006']);
const RETRYABLE_MESSAGES = [
  /connection terminated/i, /timeout/i, /closed/i, /offline/i, /socket/i, /ECONNREFUSED/,
  /^LOADING/, /^BUSY/, /^TRYAGAIN/, /^MASTERDOWN/, /^CLUSTERDOWN/, /the database system is/i,
];

export function classifyError(err: unknown): Failure {
  if (err instanceof DestinationError) return err.failure;
  const e = err as { code?: unknown; message?: unknown; name?: unknown; errors?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (Array.isArray(e?.errors) && e.errors.length > 0) return classifyError(e.errors[0]);
  if (code && RETRYABLE_NODE_CODES.has(code)) return { kind: 'retryable', reason: `${code}: ${message}` };
  if (code && /^[0-9A-Z]{5}$/.test(code)) {
    if (RETRYABLE_SQLSTATES.has(code) || RETRYABLE_SQLSTATE_CLASSES.has(code.slice(0, 2))) {
      return { kind: 'retryable', reason: `sqlstate ${code}: ${message}` };
    }
    return { kind: 'permanent', reason: `sqlstate ${code}: ${message}` };
  }
  if (RETRYABLE_MESSAGES.some((re) => re.test(message))) return { kind: 'retryable', reason: message };
  // Unknown: prefer a retry over losing data; the collector bounds its own retries.
  return { kind: 'retryable', reason: message };
}

/** Retry-After: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function classifyHttpStatus(
  status: number,
  retryAfter: string | string[] | undefined,
  now: number = Date.now(),
): DeliveryOutcome {
  if (status >= 200 && status < 300) return { kind: 'success' };
  if (status === 410) return { kind: 'gone', reason: 'HTTP 410 Gone' };
  if (status === 408 || status === 425 || status === 429 || status >= 500) {
    return { kind: 'retryable', reason: `HTTP ${status}`, retryAfterMs: parseRetryAfter(retryAfter, now) };
  }
  if (status >= 300 && status < 400) return { kind: 'permanent', reason: `HTTP ${status} (redirects are not followed)` };
  return { kind: 'permanent', reason: `HTTP ${status}` };
}

/** Exponential backoff with full jitter, capped. `attempt` counts from 1. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
