/** The sink's own Prometheus metrics (served on GET /metrics). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BatchObservableResult } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { SpanCount } from './postgres/sink.js';

/** The sink's own counters. Every method is cheap and never throws. */
export interface SinkMetrics {
  received(signal: 'traces' | 'logs', records: number): void;
  written(destination: string, records: number): void;
  /** A whole request refused (unauthorized, malformed, too large, ...). */
  requestRejected(reason: string): void;
  /** Records dropped one by one (they are in the request's partialSuccess, or its 400). */
  recordsRejected(signal: 'traces' | 'logs', reason: string, records: number): void;
  /** Records written, but not to every place they would go (e.g. a per-session stream over the bound). */
  skipped(destination: string, reason: string, records: number): void;
  retried(destination: string, count?: number): void;
  deadLettered(destination: string, count?: number): void;
  /** A webhook re-sent because its previous attempt's outcome is unknown (a possible duplicate). */
  webhookInDoubt(destination: string): void;
  writeLatency(destination: string, seconds: number, outcome: 'ok' | 'retryable' | 'permanent'): void;
  /**
   * Serves the exact span counts (`claude_otel_stored_spans_total`, and the summed durations) from
   * `read`, called at each scrape. Returns the function that stops it.
   */
  observeSpanCounts(read: () => Promise<SpanCount[]>): () => void;
  /** Serves the Prometheus text format. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  shutdown(): Promise<void>;
}

const STATUS_CODE = { unset: 'STATUS_CODE_UNSET', ok: 'STATUS_CODE_OK', error: 'STATUS_CODE_ERROR' } as const;

export function createSinkMetrics(): SinkMetrics {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({
    readers: [exporter],
    resource: resourceFromAttributes({ 'service.name': 'claude-otel-sink' }),
  });
  const meter = provider.getMeter('claude-otel-sink');
  const received = meter.createCounter('claude_otel_sink_received', { description: 'Records received (spans, log records)' });
  const written = meter.createCounter('claude_otel_sink_written', { description: 'Records written per destination' });
  const requests = meter.createCounter('claude_otel_sink_requests_rejected', {
    description: 'Requests refused whole (401 unauthorized, 400 malformed/too deep, 413 too large, 415)',
  });
  const records = meter.createCounter('claude_otel_sink_records_rejected', {
    description: 'Records dropped one by one (over a bound, bad id, outside the time window, ...), by reason',
  });
  const skipped = meter.createCounter('claude_otel_sink_records_skipped', {
    description: 'Records written but left out of one place, by destination and reason',
  });
  const retried = meter.createCounter('claude_otel_sink_retried', {
    description: 'Writes answered retryable (503/429) or webhook attempts rescheduled, per destination',
  });
  const dead = meter.createCounter('claude_otel_sink_dead_lettered', { description: 'Webhook deliveries dead-lettered' });
  const inDoubt = meter.createCounter('claude_otel_sink_webhooks_in_doubt', {
    description: 'Webhooks re-sent after an attempt whose outcome was never recorded (its replica was killed or stalled): possible duplicates, same webhook-id',
  });
  const latency = meter.createHistogram('claude_otel_sink_write_duration_seconds', {
    description: 'Write latency per destination',
    unit: 's',
    advice: { explicitBucketBoundaries: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
  });
  // The same totals on every replica (they are read from the shared database): aggregate them
  // with max, not sum, across replicas. Labels as the span-metrics connector names them.
  const stored = meter.createObservableCounter('claude_otel_stored_spans', {
    description: 'Spans stored, each exactly once whichever replica or retry stored it (from PostgreSQL; the same on every replica)',
  });
  const storedDuration = meter.createObservableCounter('claude_otel_stored_span_duration_ms', {
    description: 'Summed duration of the spans in claude_otel_stored_spans_total, in milliseconds',
  });
  let stopped = false;
  return {
    received: (signal, n) => received.add(n, { signal }),
    written: (destination, n) => written.add(n, { destination }),
    requestRejected: (reason) => requests.add(1, { reason }),
    recordsRejected: (signal, reason, n) => records.add(n, { signal, reason }),
    skipped: (destination, reason, n) => skipped.add(n, { destination, reason }),
    retried: (destination, n = 1) => retried.add(n, { destination }),
    deadLettered: (destination, n = 1) => dead.add(n, { destination }),
    webhookInDoubt: (destination) => inDoubt.add(1, { destination }),
    writeLatency: (destination, s, outcome) => latency.record(s, { destination, outcome }),
    observeSpanCounts(read) {
      const callback = async (result: BatchObservableResult) => {
        for (const c of await read()) {
          const attributes: Record<string, string> = {
            service_name: c.serviceName, span_name: c.spanName, status_code: STATUS_CODE[c.status],
          };
          if (c.spanKind) attributes['claude_code.span.kind'] = c.spanKind;
          if (c.toolName) attributes['gen_ai.tool.name'] = c.toolName;
          result.observe(stored, c.calls, attributes);
          result.observe(storedDuration, c.durationMsSum, attributes);
        }
      };
      meter.addBatchObservableCallback(callback, [stored, storedDuration]);
      return () => meter.removeBatchObservableCallback(callback, [stored, storedDuration]);
    },
    handle: (req, res) => exporter.getMetricsRequestHandler(req, res),
    async shutdown() {
      if (stopped) return;
      stopped = true;
      await provider.shutdown().catch(() => {});
    },
  };
}
