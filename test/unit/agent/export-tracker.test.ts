import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { createTrackingExporter } from '../../../src/agent/export-tracker.js';

const span = (spanId: string) => ({ spanContext: () => ({ spanId, traceId: 't', traceFlags: 1 }) }) as unknown as ReadableSpan;

/** An exporter whose answers the test releases one by one, in any order. */
function heldExporter() {
  const calls: { spans: ReadableSpan[]; done: (r: ExportResult) => void }[] = [];
  let shutdowns = 0;
  const inner: SpanExporter = {
    export: (spans, done) => calls.push({ spans, done }),
    shutdown: async () => {
      shutdowns++;
    },
  };
  return { inner, calls, shutdowns: () => shutdowns };
}

const hooks = () => {
  const seen = { exported: 0, failed: 0, dropped: 0 };
  return { seen, hooks: { onExported: (n: number) => (seen.exported += n), onFailed: (n: number) => (seen.failed += n), onDropped: (n: number) => (seen.dropped += n) } };
};
const tick = () => new Promise((r) => setImmediate(r));

describe('createTrackingExporter', () => {
  it('moves the watermark only past seqs whose spans have all settled, whatever order batches settle in', async () => {
    const { inner, calls } = heldExporter();
    const tracker = createTrackingExporter(inner, hooks().hooks, { initialWatermark: 10 });
    tracker.track('a', 11);
    tracker.track('b', 12);
    tracker.track('c', 12);
    tracker.track('d', 13);
    tracker.export([span('d')], () => {});
    tracker.export([span('b')], () => {});
    tracker.export([span('a'), span('c')], () => {});
    expect(tracker.watermark()).toBe(10);
    calls[0]!.done({ code: ExportResultCode.SUCCESS }); // 13 first
    await tick();
    expect(tracker.watermark()).toBe(10);
    calls[1]!.done({ code: ExportResultCode.SUCCESS }); // half of 12
    await tick();
    expect(tracker.watermark()).toBe(10);
    calls[2]!.done({ code: ExportResultCode.SUCCESS }); // 11 and the rest of 12
    await tick();
    expect(tracker.watermark()).toBe(13);
    expect(tracker.pending()).toBe(0);
  });

  it('holds the watermark below a failed batch and counts what exceeds the retry bound as dropped', async () => {
    const { inner, calls } = heldExporter();
    const { seen, hooks: h } = hooks();
    const tracker = createTrackingExporter(inner, h, { initialWatermark: 0, maxRetrySpans: 2, baseBackoffMs: 60_000 });
    for (const [id, seq] of [['a', 1], ['b', 2], ['c', 3]] as const) tracker.track(id, seq);
    let answered: ExportResult | undefined;
    tracker.export([span('a'), span('b'), span('c')], (r) => (answered = r));
    calls[0]!.done({ code: ExportResultCode.FAILED, error: new Error('503') });
    await tick();
    expect(answered?.code).toBe(ExportResultCode.SUCCESS); // the SDK is told it is ours now
    expect(seen).toEqual({ exported: 0, failed: 3, dropped: 1 });
    expect(tracker.retryBacklog()).toBe(2);
    expect(tracker.watermark()).toBe(0); // the dropped one is still in the journal: the watermark does not pass it
  });

  it('retries what is queued when flushed at shutdown, then shuts the inner exporter down', async () => {
    const { inner, calls, shutdowns } = heldExporter();
    const { seen, hooks: h } = hooks();
    const tracker = createTrackingExporter(inner, h, { initialWatermark: 0, baseBackoffMs: 60_000 });
    tracker.track('a', 1);
    tracker.export([span('a')], () => {});
    calls[0]!.done({ code: ExportResultCode.FAILED });
    await tick();
    const stopping = tracker.shutdown();
    await tick();
    expect(calls).toHaveLength(2); // the retry did not wait for its 60 s backoff
    calls[1]!.done({ code: ExportResultCode.SUCCESS });
    await stopping;
    expect(seen.exported).toBe(1);
    expect(tracker.watermark()).toBe(1);
    expect(shutdowns()).toBe(1);
  });
});
