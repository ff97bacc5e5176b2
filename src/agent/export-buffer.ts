/**
 * The retrying export buffer under the SDK's BatchSpanProcessor: it takes each batch at once (so the
 * processor never waits on an outage and never overflows its own queue), and sends what it holds to
 * the inner exporter one request at a time, oldest first.
 *
 * Two retry layers, each with its own job:
 * - the inner OTLP exporter's retrying transport (otlp-exporter-base `retrying-transport`) retries a
 *   request up to 5 times within `exportTimeoutMs` on 429/502/503/504 and network errors, honouring
 *   Retry-After: it rides out a collector restart;
 * - this buffer retries for as long as the gateway is away (hours), with backoff from `baseBackoffMs`
 *   doubling to `maxBackoffMs`, each delay jittered (half fixed, half random, as the sink's webhooks),
 *   and no deadline. What it holds is bounded by `maxBytes` (an estimate of each span's size): past
 *   it the OLDEST spans are dropped, counted (reason `buffer_full`) and settled, so the journal's
 *   watermark passes them and they are not rebuilt at the next start either.
 *
 * A 401 or 403 is retried like an outage (the credentials can be fixed without losing anything), and
 * `onAuthRejected` lets the header source run its command again. A 400 or 413 is the gateway refusing
 * the data itself: retrying cannot fix it, so the batch is dropped and counted (reason `refused`)
 * instead of blocking everything behind it. Whatever the buffer holds when the agent stops was not
 * settled: the journal still has it and the next start rebuilds it.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { backoffMs } from '../sink/failures.js';

export type DropReason = 'buffer_full' | 'refused';

export interface ExportBufferHooks {
  onExported(spans: readonly ReadableSpan[]): void;
  onFailed(count: number, error: unknown): void;
  onDropped(spans: readonly ReadableSpan[], reason: DropReason): void;
  /** The gateway answered 401 or 403: credentials are to be fetched again before the next attempt. */
  onAuthRejected?(): void;
}

export interface ExportBufferOptions {
  maxBytes: number;
  batchSize: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  random?: () => number;
  now?: () => number;
}

export interface ExportBufferStats {
  spans: number;
  bytes: number;
  maxBytes: number;
  dropped: Record<DropReason, number>;
  /** Consecutive failed attempts of the batch at the head (0 when the last attempt succeeded). */
  failures: number;
  lastError: string | null;
  lastSuccessMs: number | null;
  nextAttemptMs: number | null;
}

export interface ExportBuffer extends SpanExporter {
  /** Spans that bypass the batch processor (a journal replay emits thousands at once). */
  enqueue(spans: readonly ReadableSpan[]): void;
  stats(): ExportBufferStats;
  forceFlush(): Promise<void>;
}

/** A rough size of a span on the wire: its strings plus a fixed overhead per span, attribute and event. */
export function estimateSpanBytes(span: ReadableSpan): number {
  let n = 160 + span.name.length;
  const add = (attributes: Record<string, unknown> | undefined) => {
    if (!attributes) return;
    for (const key in attributes) {
      const v = attributes[key];
      n += key.length + 8 + (typeof v === 'string' ? v.length : Array.isArray(v) ? 16 * v.length : 8);
    }
  };
  add(span.attributes);
  for (const event of span.events) {
    n += 32 + event.name.length;
    add(event.attributes);
  }
  return n;
}

const statusOf = (error: unknown): number | undefined => {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
};

const describeError = (error: unknown): string => {
  const status = statusOf(error);
  const text = error instanceof Error ? error.message || error.name : String(error ?? 'export failed');
  return (status ? `HTTP ${status} ${text}` : text).slice(0, 300);
};

export function createExportBuffer(inner: SpanExporter, hooks: ExportBufferHooks, options: ExportBufferOptions): ExportBuffer {
  const base = options.baseBackoffMs ?? 1000;
  const max = options.maxBackoffMs ?? 60_000;
  const now = options.now ?? Date.now;
  let queue: { span: ReadableSpan; bytes: number }[] = [];
  let bytes = 0;
  let inflight: { span: ReadableSpan; bytes: number }[] = [];
  let sending: Promise<boolean> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let nextAttemptMs: number | null = null;
  let failures = 0;
  let lastError: string | null = null;
  let lastSuccessMs: number | null = null;
  let stopped = false;
  const dropped: Record<DropReason, number> = { buffer_full: 0, refused: 0 };

  const trim = () => {
    let cut = 0;
    let freed = 0;
    while (cut < queue.length && bytes - freed > options.maxBytes) freed += queue[cut++]!.bytes;
    if (cut === 0) return;
    const gone = queue.slice(0, cut).map((e) => e.span);
    queue = queue.slice(cut);
    bytes -= freed;
    dropped.buffer_full += gone.length;
    hooks.onDropped(gone, 'buffer_full');
  };

  const enqueue = (spans: readonly ReadableSpan[]) => {
    for (const span of spans) {
      const size = estimateSpanBytes(span);
      queue.push({ span, bytes: size });
      bytes += size;
    }
    trim();
  };

  /** One request: the head of the queue. True when it settled (sent, or refused for good). */
  const attempt = async (): Promise<boolean> => {
    inflight = queue.splice(0, options.batchSize);
    if (inflight.length === 0) return true;
    const spans = inflight.map((e) => e.span);
    let result: ExportResult;
    try {
      result = await new Promise<ExportResult>((resolve) => inner.export(spans, resolve));
    } catch (error) {
      result = { code: ExportResultCode.FAILED, error: error as Error };
    }
    const batch = inflight;
    inflight = [];
    const size = batch.reduce((n, e) => n + e.bytes, 0);
    if (result.code === ExportResultCode.SUCCESS) {
      bytes -= size;
      failures = 0;
      lastSuccessMs = now();
      hooks.onExported(spans);
      return true;
    }
    const status = statusOf(result.error);
    lastError = describeError(result.error);
    hooks.onFailed(spans.length, result.error);
    if (status === 400 || status === 413) {
      bytes -= size;
      dropped.refused += spans.length;
      hooks.onDropped(spans, 'refused');
      return true;
    }
    if (status === 401 || status === 403) hooks.onAuthRejected?.();
    failures++;
    queue = [...batch, ...queue]; // back at the head, in order
    trim(); // what arrived meanwhile may have pushed it over the bound
    return false;
  };

  const schedule = (delayMs: number) => {
    if (timer || stopped || queue.length === 0) return;
    nextAttemptMs = now() + delayMs;
    timer = setTimeout(() => {
      timer = undefined;
      nextAttemptMs = null;
      pump();
    }, delayMs);
    timer.unref();
  };

  const pump = () => {
    if (sending || stopped || queue.length === 0) return;
    sending = attempt();
    void sending.then((ok) => {
      sending = undefined;
      if (ok) pump(); // the next batch at once
      else schedule(backoffMs(failures, base, max, options.random));
    }, (error: unknown) => {
      sending = undefined;
      hooks.onFailed(0, error); // attempt does not reject; this keeps a timer from rejecting unhandled
      schedule(max);
    });
  };

  return {
    export(spans, done) {
      if (stopped) {
        done({ code: ExportResultCode.FAILED, error: new Error('export buffer is shut down') });
        return;
      }
      enqueue(spans);
      done({ code: ExportResultCode.SUCCESS }); // the batch is ours now: sent, retried, or counted as dropped
      if (!timer) pump(); // waiting out a backoff: the next attempt takes it along
    },
    enqueue(spans) {
      enqueue(spans);
      if (!timer) pump();
    },
    stats: () => ({
      spans: queue.length + inflight.length, bytes, maxBytes: options.maxBytes, dropped: { ...dropped },
      failures, lastError, lastSuccessMs, nextAttemptMs,
    }),
    /** Skips the backoff and tries everything once, stopping at the first failure. */
    async forceFlush() {
      if (timer) {
        clearTimeout(timer);
        timer = undefined;
        nextAttemptMs = null;
      }
      await sending;
      while (queue.length && !stopped) {
        const attemptNow = attempt();
        sending = attemptNow;
        const ok = await attemptNow;
        sending = undefined;
        if (!ok) break;
      }
      if (queue.length) schedule(backoffMs(failures, base, max, options.random));
      await inner.forceFlush?.();
    },
    async shutdown() {
      if (stopped) return;
      await this.forceFlush();
      stopped = true;
      if (timer) clearTimeout(timer);
      await inner.shutdown();
    },
  };
}
