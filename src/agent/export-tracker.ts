/**
 * Knows what has really left the machine. Each span carries the journal seq of the event that
 * closed it; the watermark is the highest seq below which every span was exported (or dropped and
 * counted). Sending and retrying is the export buffer's job (export-buffer.ts): this module wraps it
 * and settles what it reports. Whatever is unsettled when the agent stops is rebuilt from the
 * journal on the next start, because the watermark did not pass it.
 */
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createExportBuffer, type DropReason, type ExportBufferStats } from './export-buffer.js';

export interface ExportTrackerHooks {
  onExported(count: number): void;
  onFailed(count: number, error: unknown): void;
  onDropped(count: number, reason: DropReason): void;
  onAuthRejected?(): void;
}

export interface TrackingExporter extends SpanExporter {
  /** Registers a span id before the SDK sees the span. */
  track(spanId: string, seq: number): void;
  /** Spans that bypass the batch processor (journal replay). */
  enqueue(spans: readonly ReadableSpan[]): void;
  watermark(): number;
  pending(): number;
  /** Spans held by the export buffer (waiting, in flight or waiting for a retry). */
  retryBacklog(): number;
  buffer(): ExportBufferStats;
}

export interface TrackerOptions {
  initialWatermark: number;
  maxBufferBytes?: number;
  batchSize?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  random?: () => number;
}

export function createTrackingExporter(inner: SpanExporter, hooks: ExportTrackerHooks, options: TrackerOptions): TrackingExporter {
  const seqOf = new Map<string, number>();
  const inflight = new Map<number, number>(); // seq -> spans of that seq not yet settled
  let highest = options.initialWatermark;

  const settle = (spans: readonly ReadableSpan[]) => {
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

  const buffer = createExportBuffer(inner, {
    onExported: (spans) => {
      settle(spans);
      hooks.onExported(spans.length);
    },
    onFailed: (n, error) => hooks.onFailed(n, error),
    onDropped: (spans, reason) => {
      settle(spans); // counted, not lost silently; the journal need not keep them any more
      hooks.onDropped(spans.length, reason);
    },
    onAuthRejected: () => hooks.onAuthRejected?.(),
  }, {
    maxBytes: options.maxBufferBytes ?? 16 * 1024 * 1024,
    batchSize: options.batchSize ?? 512,
    ...(options.baseBackoffMs !== undefined ? { baseBackoffMs: options.baseBackoffMs } : {}),
    ...(options.maxBackoffMs !== undefined ? { maxBackoffMs: options.maxBackoffMs } : {}),
    ...(options.random ? { random: options.random } : {}),
  });

  return {
    track(spanId, seq) {
      seqOf.set(spanId, seq);
      inflight.set(seq, (inflight.get(seq) ?? 0) + 1);
      if (seq > highest) highest = seq;
    },
    enqueue: (spans) => buffer.enqueue(spans),
    export: (spans, done) => buffer.export(spans, done),
    watermark() {
      let min = Infinity;
      for (const seq of inflight.keys()) if (seq < min) min = seq;
      return min === Infinity ? highest : min - 1;
    },
    pending: () => seqOf.size,
    retryBacklog: () => buffer.stats().spans,
    buffer: () => buffer.stats(),
    forceFlush: () => buffer.forceFlush(),
    shutdown: () => buffer.shutdown(),
  };
}
