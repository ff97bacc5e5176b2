import { describe, expect, it } from 'vitest';
import type { Batch, Destination } from '../../src/sink/destination.js';
import { createIngest } from '../../src/sink/ingest.js';
import { createSinkMetrics } from '../../src/sink/metrics.js';
import { normalizeTraces } from '../../src/sink/records.js';
import { buildSyntheticSession } from './support/session.js';
import { createRecordingLogger } from './support/sink.js';

function recorder(name: string): Destination & { got: Batch[] } {
  const got: Batch[] = [];
  return { name, got, start: async () => {}, shutdown: async () => {}, consume: async (b) => void got.push(b) };
}

describe('createIngest fan-out', () => {
  it('gives followers (webhooks) only batches from an authenticated sender; stores get every batch', async () => {
    const store = recorder('store');
    const follower = recorder('follower');
    const metrics = createSinkMetrics();
    const ingest = createIngest({ stores: [store], followers: [follower], metrics, log: createRecordingLogger(), writeTimeoutMs: 1_000 });
    const spans = normalizeTraces(buildSyntheticSession().traces as never).records;
    expect(await ingest({ spans, logs: [] })).toEqual({ ok: true });
    expect(await ingest({ spans, logs: [], authenticated: false })).toEqual({ ok: true });
    expect(follower.got).toHaveLength(0);
    expect(await ingest({ spans, logs: [], authenticated: true })).toEqual({ ok: true });
    expect(store.got).toHaveLength(3);
    expect(follower.got).toHaveLength(1);
    await metrics.shutdown();
  });
});
