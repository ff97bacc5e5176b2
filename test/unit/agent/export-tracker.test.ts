import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { estimateSpanBytes } from '../../../src/agent/export-buffer.js';
import { createTrackingExporter } from '../../../src/agent/export-tracker.js';

const span = (spanId: string) => ({ name: 'tool', attributes: {}, events: [], spanContext: () => ({ spanId, traceId: 't', traceFlags: 1 }) }) as unknown as ReadableSpan;

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
  it('moves the watermark only past seqs whose spans have all settled, oldest batch first', async () => {
    const { inner, calls } = heldExporter();
    const tracker = createTrackingExporter(inner, hooks().hooks, { initialWatermark: 10, batchSize: 2 });
    tracker.track('a', 11);
    tracker.track('b', 12);
    tracker.track('c', 12);
    tracker.track('d', 13);
    tracker.export([span('a'), span('b'), span('c'), span('d')], () => {});
    expect(calls).toHaveLength(1); // one request at a time
    expect(calls[0]!.spans.map((s) => s.spanContext().spanId)).toEqual(['a', 'b']);
    expect(tracker.watermark()).toBe(10);
    calls[0]!.done({ code: ExportResultCode.SUCCESS }); // 11 and half of 12
    await tick();
    expect(tracker.watermark()).toBe(11);
    await tick();
    calls[1]!.done({ code: ExportResultCode.SUCCESS });
    await tick();
    expect(tracker.watermark()).toBe(13);
    expect(tracker.pending()).toBe(0);
  });

  it('holds the watermark below a failed batch; dropping the oldest past the bound settles them and counts them', async () => {
    const { inner, calls } = heldExporter();
    const { seen, hooks: h } = hooks();
    const size = estimateSpanBytes(span('a'));
    const tracker = createTrackingExporter(inner, h, { initialWatermark: 0, maxBufferBytes: 2 * size, baseBackoffMs: 60_000 });
    for (const [id, seq] of [['a', 1], ['b', 2], ['c', 3]] as const) tracker.track(id, seq);
    let answered: ExportResult | undefined;
    tracker.export([span('a'), span('b')], (r) => (answered = r));
    expect(answered?.code).toBe(ExportResultCode.SUCCESS); // the SDK is told at once that it is ours now
    calls[0]!.done({ code: ExportResultCode.FAILED, error: new Error('503') });
    await tick();
    expect(seen).toEqual({ exported: 0, failed: 2, dropped: 0 });
    expect(tracker.watermark()).toBe(0);
    tracker.export([span('c')], () => {}); // three spans, room for two: 'a' goes
    expect(seen.dropped).toBe(1);
    expect(tracker.retryBacklog()).toBe(2);
    expect(tracker.buffer().dropped).toEqual({ buffer_full: 1, refused: 0 });
    expect(tracker.watermark()).toBe(1); // 'a' is settled (dropped, counted): the journal need not keep it
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
