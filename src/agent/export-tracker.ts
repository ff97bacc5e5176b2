/**
 * Wraps a SpanExporter to know what has really left the machine. Each span carries the journal seq
 * of the event that closed it; the watermark is the highest seq below which every span was exported.
 * A failed batch is retried with backoff from memory (bounded); whatever is still unexported when the
 * agent stops is rebuilt from the journal on the next start, because the watermark did not pass it.
 */
import type { ExportResult } from '@opentelemetry/core';
import { ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

export interface ExportTrackerHooks {
  onExported(count: number): void;
  onFailed(count: number, error: unknown): void;
  onDropped(count: number): void;
}

export interface TrackingExporter extends SpanExporter {
  /** Registers a span id before the SDK sees the span. */
  track(spanId: string, seq: number): void;
  watermark(): number;
  pending(): number;
  retryBacklog(): number;
}

export function createTrackingExporter(
  inner: SpanExporter,
  hooks: ExportTrackerHooks,
  options: { initialWatermark: number; maxRetrySpans?: number; baseBackoffMs?: number; maxBackoffMs?: number },
): TrackingExporter {
  const seqOf = new Map<string, number>();
  const inflight = new Map<number, number>(); // seq -> spans of that seq not yet exported
  let highest = options.initialWatermark;
  let retryQueue: ReadableSpan[] = [];
  let backoffMs = options.baseBackoffMs ?? 500;
  let retryTimer: NodeJS.Timeout | undefined;
  let retrying: Promise<void> | undefined;
  let stopped = false;
  const maxRetry = options.maxRetrySpans ?? 20_000; // beyond: rebuilt from the journal at the next start

  const settle = (spans: ReadableSpan[]) => {
    for (const span of spans) {
      const id = span.spanContext().spanId;
      const seq = seqOf.get(id);
      if (seq === undefined) continue;
      seqOf.delete(id);
      const left = (inflight.get(seq) ?? 1) - 1;
      if (left <= 0) inflight.delete(seq);
      else inflight.set(seq, left);
    }
  };

  const send = (spans: ReadableSpan[]) =>
    new Promise<ExportResult>((resolve) => inner.export(spans, resolve));

  const fail = (spans: ReadableSpan[], error: unknown) => {
    hooks.onFailed(spans.length, error);
    const room = maxRetry - retryQueue.length;
    if (room < spans.length) hooks.onDropped(spans.length - Math.max(room, 0)); // still in the journal
    retryQueue.push(...spans.slice(0, Math.max(room, 0)));
    scheduleRetry();
  };

  const scheduleRetry = () => {
    if (retryTimer || stopped || retryQueue.length === 0) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      retrying = retryNow().catch((error: unknown) => hooks.onFailed(0, error)); // a timer callback never rejects unhandled
    }, backoffMs);
    retryTimer.unref();
  };

  const retryNow = async () => {
    const batch = retryQueue.splice(0, 512);
    if (batch.length === 0) return;
    const result = await send(batch);
    if (result.code === ExportResultCode.SUCCESS) {
      settle(batch);
      hooks.onExported(batch.length);
      backoffMs = options.baseBackoffMs ?? 500;
    } else {
      retryQueue.unshift(...batch);
      hooks.onFailed(batch.length, result.error);
      backoffMs = Math.min(backoffMs * 2, options.maxBackoffMs ?? 30_000);
    }
    scheduleRetry();
  };

  return {
    track(spanId, seq) {
      seqOf.set(spanId, seq);
      inflight.set(seq, (inflight.get(seq) ?? 0) + 1);
      if (seq > highest) highest = seq;
    },
    export(spans, done) {
      send(spans).then((result) => {
        if (result.code === ExportResultCode.SUCCESS) {
          settle(spans);
          hooks.onExported(spans.length);
        } else fail(spans, result.error);
        done({ code: ExportResultCode.SUCCESS }); // the batch is ours now: retried, or rebuilt from the journal
      }, (error: unknown) => {
        fail(spans, error);
        done({ code: ExportResultCode.SUCCESS });
      });
    },
    watermark() {
      let min = Infinity;
      for (const seq of inflight.keys()) if (seq < min) min = seq;
      return min === Infinity ? highest : min - 1;
    },
    pending: () => seqOf.size,
    retryBacklog: () => retryQueue.length,
    async forceFlush() {
      if (retryTimer) {
        clearTimeout(retryTimer);
        retryTimer = undefined;
      }
      await retrying;
      if (retryQueue.length) await retryNow();
      await inner.forceFlush?.();
    },
    async shutdown() {
      await this.forceFlush?.();
      stopped = true;
      if (retryTimer) clearTimeout(retryTimer);
      await inner.shutdown();
    },
  };
}
