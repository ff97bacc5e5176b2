import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPExporterError } from '@opentelemetry/otlp-exporter-base';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { createExportBuffer, type DropReason } from '../../../src/agent/export-buffer.js';

const span = (spanId: string) => ({ name: 'tool', attributes: { 'k': 'v' }, events: [], spanContext: () => ({ spanId, traceId: 't', traceFlags: 1 }) }) as unknown as ReadableSpan;
const ids = (spans: readonly ReadableSpan[]) => spans.map((s) => s.spanContext().spanId);
const tick = () => new Promise((r) => setImmediate(r));

function held() {
  const calls: { spans: ReadableSpan[]; done: (r: ExportResult) => void }[] = [];
  const inner: SpanExporter = { export: (spans, done) => calls.push({ spans, done }), shutdown: async () => {} };
  return { inner, calls };
}

function recorder() {
  const seen = { exported: [] as string[], dropped: [] as [string, DropReason][], failed: 0, auth: 0 };
  return {
    seen,
    hooks: {
      onExported: (s: readonly ReadableSpan[]) => seen.exported.push(...ids(s)),
      onDropped: (s: readonly ReadableSpan[], reason: DropReason) => seen.dropped.push(...ids(s).map((id) => [id, reason] as [string, DropReason])),
      onFailed: (n: number) => (seen.failed += n),
      onAuthRejected: () => seen.auth++,
    },
  };
}

describe('createExportBuffer', () => {
  it('keeps a batch refused with 401 at the head, asks for new credentials, and sends it first once accepted', async () => {
    const { inner, calls } = held();
    const { seen, hooks } = recorder();
    const buffer = createExportBuffer(inner, hooks, { maxBytes: 1 << 20, batchSize: 10, baseBackoffMs: 60_000 });
    buffer.export([span('a')], () => {});
    calls[0]!.done({ code: ExportResultCode.FAILED, error: new OTLPExporterError('Unauthorized', 401) });
    await tick();
    expect(seen.auth).toBe(1);
    expect(buffer.stats()).toMatchObject({ spans: 1, failures: 1, lastError: 'HTTP 401 Unauthorized' });
    expect(buffer.stats().nextAttemptMs).not.toBeNull();
    buffer.export([span('b')], () => {}); // waits for the backoff, behind 'a'
    expect(calls).toHaveLength(1);
    const flushing = buffer.forceFlush();
    await tick();
    expect(ids(calls[1]!.spans)).toEqual(['a', 'b']);
    calls[1]!.done({ code: ExportResultCode.SUCCESS });
    await flushing;
    expect(seen.exported).toEqual(['a', 'b']);
    expect(seen.dropped).toEqual([]);
    expect(buffer.stats()).toMatchObject({ spans: 0, bytes: 0, failures: 0 });
  });

  it('drops a batch the endpoint refuses for good (400) and counts it, instead of blocking what follows', async () => {
    const { inner, calls } = held();
    const { seen, hooks } = recorder();
    const buffer = createExportBuffer(inner, hooks, { maxBytes: 1 << 20, batchSize: 1, baseBackoffMs: 60_000 });
    buffer.export([span('a'), span('b')], () => {});
    calls[0]!.done({ code: ExportResultCode.FAILED, error: new OTLPExporterError('Bad Request', 400) });
    await tick();
    await tick();
    expect(seen.dropped).toEqual([['a', 'refused']]);
    expect(ids(calls[1]!.spans)).toEqual(['b']);
  });

  it('bounds what it holds by size, dropping the oldest first, never the batch in flight', async () => {
    const { inner, calls } = held();
    const { seen, hooks } = recorder();
    const probe = createExportBuffer({ export: () => {}, shutdown: async () => {} }, hooks, { maxBytes: 1 << 20, batchSize: 1 });
    probe.enqueue([span('x')]);
    const size = probe.stats().bytes;
    const buffer = createExportBuffer(inner, hooks, { maxBytes: 3 * size, batchSize: 1, baseBackoffMs: 60_000 });
    buffer.export([span('a')], () => {}); // in flight
    buffer.export([span('b'), span('c'), span('d'), span('e')], () => {});
    expect(seen.dropped).toEqual([['b', 'buffer_full'], ['c', 'buffer_full']]);
    expect(buffer.stats()).toMatchObject({ spans: 3, bytes: 3 * size, dropped: { buffer_full: 2, refused: 0 } });
    calls[0]!.done({ code: ExportResultCode.FAILED, error: new Error('connect ECONNREFUSED') });
    await tick();
    expect(buffer.stats().spans).toBe(3); // 'a' back at the head
    expect(seen.dropped).toHaveLength(2);
  });

  it('backs off with jitter between attempts, doubling to the cap', async () => {
    const { inner, calls } = held();
    const { hooks } = recorder();
    let now = 0;
    const buffer = createExportBuffer(inner, hooks, { maxBytes: 1 << 20, batchSize: 5, baseBackoffMs: 1000, maxBackoffMs: 4000, random: () => 1, now: () => now });
    buffer.export([span('a')], () => {});
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      calls[i]!.done({ code: ExportResultCode.FAILED, error: new Error('503') });
      await tick();
      delays.push(buffer.stats().nextAttemptMs! - now);
      void buffer.forceFlush(); // skips the wait: the next attempt starts at once
      await tick();
    }
    expect(delays).toEqual([1000, 2000, 4000, 4000]);
    void buffer.shutdown();
  });
});
