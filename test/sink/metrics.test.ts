/**
 * The sink's /metrics exposition of the exact span counts (src/sink/metrics.ts observeSpanCounts):
 * labels as the span-metrics connector names them, read at each scrape, a failing read costs only
 * those series, and the function it returns stops it.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type SinkMetrics, createSinkMetrics } from '../../src/sink/metrics.js';
import type { SpanCount } from '../../src/sink/postgres/sink.js';

let server: Server | undefined;
let metrics: SinkMetrics | undefined;

afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await metrics?.shutdown();
  server = undefined;
});

async function serve(m: SinkMetrics): Promise<() => Promise<string>> {
  server = createServer((req, res) => m.handle(req, res));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** The series of one metric in an exposition text, without the exporter's own scope label. */
function series(text: string, name: string) {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`)).map((l) => {
    const labels = Object.fromEntries([...l.slice(name.length + 1, l.lastIndexOf('}')).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    delete labels.otel_scope_name;
    return { labels, value: Number(l.slice(l.lastIndexOf(' ') + 1)) };
  });
}

const count = (o: Partial<SpanCount>): SpanCount => ({
  serviceName: 'claude-code', spanName: 'execute_tool Bash', spanKind: 'tool', status: 'ok', toolName: 'Bash', calls: 1, durationMsSum: 10, ...o,
});

describe('sink metrics: exact span counts', () => {
  it('serves each row as a counter with the span-metrics labels, read anew at every scrape', async () => {
    metrics = createSinkMetrics();
    let rows = [count({ calls: 3, durationMsSum: 42.5 }), count({ spanName: 'claude_code.turn', spanKind: 'turn', toolName: '', status: 'error', calls: 2 })];
    metrics.observeSpanCounts(async () => rows);
    const scrape = await serve(metrics);
    const text = await scrape();
    expect(series(text, 'claude_otel_stored_spans_total')).toEqual([
      { labels: { service_name: 'claude-code', span_name: 'execute_tool Bash', status_code: 'STATUS_CODE_OK', claude_code_span_kind: 'tool', gen_ai_tool_name: 'Bash' }, value: 3 },
      // An empty tool name is no label at all (as the connector leaves out an absent dimension).
      { labels: { service_name: 'claude-code', span_name: 'claude_code.turn', status_code: 'STATUS_CODE_ERROR', claude_code_span_kind: 'turn' }, value: 2 },
    ]);
    expect(series(text, 'claude_otel_stored_span_duration_ms_total').map((x) => x.value)).toEqual([42.5, 10]);
    rows = [count({ calls: 7 }), rows[1]!];
    expect(series(await scrape(), 'claude_otel_stored_spans_total').map((x) => x.value)).toEqual([7, 2]);
  });

  it('keeps serving its other metrics when the counts cannot be read, and stops reading when told', async () => {
    metrics = createSinkMetrics();
    metrics.received('traces', 5);
    let reads = 0;
    const stop = metrics.observeSpanCounts(async () => {
      reads++;
      throw new Error('database unreachable');
    });
    const scrape = await serve(metrics);
    const text = await scrape();
    expect(reads).toBe(1);
    expect(series(text, 'claude_otel_sink_received_total').map((x) => x.value)).toEqual([5]);
    expect(series(text, 'claude_otel_stored_spans_total')).toEqual([]);
    stop();
    await scrape();
    expect(reads).toBe(1);
  });
});
