import type { Batch, Destination, Logger } from './destination.js';
import { DestinationError, type Failure, classifyError } from './failures.js';
import type { SinkMetrics } from './metrics.js';

export type IngestResult = { ok: true } | { ok: false; failure: Failure; destination: string };

export interface IngestOptions {
  /** Written in parallel (Postgres, Redis). */
  stores: Destination[];
  /** Written after every store succeeded (the webhook outbox reads what the stores wrote). */
  followers: Destination[];
  metrics: SinkMetrics;
  log: Logger;
  writeTimeoutMs: number;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DestinationError(`${what} write timed out after ${ms} ms`, { kind: 'retryable', reason: 'timeout' })),
      ms,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Fans a batch out to the destinations, each wrapped with a deadline, timing and failure
 * classification. Writes are idempotent, so the sender may replay the whole batch on any failure.
 */
export function createIngest(o: IngestOptions): (batch: Batch) => Promise<IngestResult> {
  const lastLogged = new Map<string, number>();
  async function write(d: Destination, batch: Batch): Promise<IngestResult> {
    const t0 = performance.now();
    try {
      await withTimeout(d.consume(batch), o.writeTimeoutMs, d.name);
      o.metrics.writeLatency(d.name, (performance.now() - t0) / 1000, 'ok');
      o.metrics.written(d.name, batch.spans.length + batch.logs.length);
      return { ok: true };
    } catch (err) {
      const failure = classifyError(err);
      o.metrics.writeLatency(d.name, (performance.now() - t0) / 1000, failure.kind);
      if (failure.kind === 'retryable') o.metrics.retried(d.name);
      else {
        if (batch.spans.length) o.metrics.recordsRejected('traces', `${d.name}_permanent`, batch.spans.length);
        if (batch.logs.length) o.metrics.recordsRejected('logs', `${d.name}_permanent`, batch.logs.length);
      }
      // One line per destination per 10 s, not one per request.
      const now = Date.now();
      if (failure.kind === 'permanent' || now - (lastLogged.get(d.name) ?? 0) > 10_000) {
        lastLogged.set(d.name, now);
        o.log.warn(`write to ${d.name} failed (${failure.kind})`, { destination: d.name, error: failure.reason });
      }
      return { ok: false, failure, destination: d.name };
    }
  }
  const firstFailure = (results: IngestResult[]): IngestResult =>
    results.find((r) => !r.ok && r.failure.kind === 'permanent') ?? results.find((r) => !r.ok) ?? { ok: true };

  return async (batch) => {
    const stored = firstFailure(await Promise.all(o.stores.map((d) => write(d, batch))));
    if (!stored.ok) return stored;
    // Webhooks (followers) act on what they read: only batches from an authenticated sender.
    if (batch.authenticated !== true) return stored;
    return firstFailure(await Promise.all(o.followers.map((d) => write(d, batch))));
  };
}
