/**
 * The OTel SDK, owned by the agent alone: a tracer provider with our span processors (OTLP/HTTP
 * when an endpoint is configured, and always the embedded local store), a logger provider (OTLP
 * logs) and two meter providers: the agent's health metrics, read by the Prometheus exporter on the
 * agent's own port, and the model-call metrics (tokens, duration, cost: see otlp-metrics.ts), which
 * Prometheus serves too and, when a metrics endpoint is configured, a periodic OTLP/HTTP reader
 * pushes to the collector. Providers are
 * used directly, not registered globally, so that an agent can be started and stopped in-process.
 * The exporters' options come from the config (otlp-options.ts, where the standard OTEL_EXPORTER_OTLP_*
 * variables are read into it); the env resource detector reads OTEL_RESOURCE_ATTRIBUTES.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Attributes as OtelAttributes, type HrTime, type Meter, type Tracer } from '@opentelemetry/api';
import { SeverityNumber, type Logger } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { AggregationTemporalityPreference, OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, MetricReader, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base';
import type { LogRecordOut, SpanRecord } from '../model/types.js';
import { createTrackingExporter, type ExportTrackerHooks, type TrackingExporter } from './export-tracker.js';
import { MODEL_CALL_SCOPE } from './otlp-metrics.js';
import { PresetIdGenerator } from './preset-ids.js';

export interface TelemetryOptions {
  serviceName: string;
  resourceAttributes: Record<string, string>;
  /** OTLP/HTTP exporter options per signal (otlp-options.ts); absent: spans stay local only.
   *  `metrics`: where the model-call metrics are pushed; absent: served on /metrics only. */
  otlp?: { traces: OTLPExporterNodeConfigBase; logs: OTLPExporterNodeConfigBase; metrics?: OTLPExporterNodeConfigBase | undefined } | undefined;
  metricsExportIntervalMs?: number;
  /** service.instance.id of the metrics resource (unless OTEL_RESOURCE_ATTRIBUTES names one): keeps
   *  two agents' cumulative series apart in the collector's Prometheus exporter. */
  metricsInstanceId?: string;
  localStore: SpanExporter;
  /** Also keep spans in the local store when exporting OTLP (always, without OTLP). */
  keepLocalCopy: boolean;
  flushDelayMs: number;
  maxExportBatchSize: number;
  maxQueueSize: number;
  initialWatermark: number;
  /** Bound of the retrying export buffer (export-buffer.ts). */
  bufferMaxBytes: number;
  retryMaxBackoffMs: number;
  hooks: ExportTrackerHooks;
}

export interface Telemetry {
  emitSpan(record: SpanRecord, seq: number): void;
  emitLog(record: LogRecordOut): void;
  tracker: TrackingExporter;
  /** Spans emitted inside `fn` go straight to the export buffer, past the batch processor's bounded queue. */
  replaying<T>(fn: () => T): T;
  prometheus: PrometheusExporter;
  meter: Meter;
  /** The meter of the model-call metrics: the only scope pushed over OTLP. */
  modelCallMeter: Meter;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

const hr = (ms: number): HrTime => {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
};

/** Routes ended spans to the batch processor, or during a replay straight to the export buffer. */
function replayRouter(batch: SpanProcessor, tracker: TrackingExporter) {
  let direct = false;
  const processor: SpanProcessor = {
    onStart: (span, context) => batch.onStart(span, context),
    onEnd: (span) => (direct ? tracker.enqueue([span]) : batch.onEnd(span)),
    forceFlush: () => batch.forceFlush(),
    shutdown: () => batch.shutdown(),
  };
  const replaying = <T>(fn: () => T): T => {
    direct = true;
    try {
      return fn();
    } finally {
      direct = false;
    }
  };
  return { processor, replaying };
}

/** A reader that only collects when asked (Prometheus scrapes the model-call metrics through it). */
class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export function startTelemetry(options: TelemetryOptions): Telemetry {
  const ids = new PresetIdGenerator();
  const primary: SpanExporter = options.otlp ? new OTLPTraceExporter(options.otlp.traces) : options.localStore;
  const tracker = createTrackingExporter(primary, options.hooks, {
    initialWatermark: options.initialWatermark, maxBufferBytes: options.bufferMaxBytes, batchSize: options.maxExportBatchSize,
    maxBackoffMs: options.retryMaxBackoffMs, baseBackoffMs: Math.min(1000, options.retryMaxBackoffMs),
  });
  const batch = { scheduledDelayMillis: options.flushDelayMs, maxExportBatchSize: options.maxExportBatchSize, maxQueueSize: options.maxQueueSize };
  const router = replayRouter(new BatchSpanProcessor(tracker, batch), tracker);
  const spanProcessors: SpanProcessor[] = [router.processor];
  if (options.otlp && options.keepLocalCopy) spanProcessors.push(new BatchSpanProcessor(options.localStore, batch));
  const logRecordProcessors: LogRecordProcessor[] = options.otlp
    ? [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter(options.otlp.logs), ...batch })]
    : [];
  // OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME (env detector) win over our defaults.
  const detected = detectResources({ detectors: [envDetector] });
  const resourceWith = (extra: Record<string, string> = {}) =>
    resourceFromAttributes({ ...options.resourceAttributes, 'service.name': options.serviceName, ...extra }).merge(detected);
  const resource = resourceWith();
  const tracerProvider = new BasicTracerProvider({ resource, idGenerator: ids, spanProcessors });
  const loggerProvider = new LoggerProvider({ resource, processors: logRecordProcessors });
  // Two meter providers, so that each instrument is aggregated once: the agent's own health
  // metrics (read by Prometheus), and the model-call metrics, read by one reader only (the OTLP
  // push when configured), which Prometheus also serves through a producer over that reader. Two
  // consumers can share one reader because its temporality is cumulative (pinned below): a
  // collect is a snapshot, never a reset. One provider with both readers aggregated every
  // per-event health metric twice, and every model-call metric twice.
  const metricsResource = options.metricsInstanceId ? resourceWith({ 'service.instance.id': options.metricsInstanceId }) : resource;
  let modelCallReader: MetricReader;
  if (options.otlp?.metrics) {
    const interval = options.metricsExportIntervalMs ?? 30_000;
    modelCallReader = new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({ ...options.otlp.metrics, temporalityPreference: AggregationTemporalityPreference.CUMULATIVE }),
      exportIntervalMillis: interval,
      exportTimeoutMillis: Math.min(options.otlp.metrics.timeoutMillis ?? interval, interval),
    });
  } else modelCallReader = new OnDemandReader();
  const modelCallProvider = new MeterProvider({ resource: metricsResource, readers: [modelCallReader] });
  const prometheus = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true, metricProducers: [{
    // a failed collect of the model-call metrics (during shutdown, say) must not fail the whole scrape
    collect: (o) => modelCallReader.collect(o).catch((err: unknown) => ({ resourceMetrics: { resource: metricsResource, scopeMetrics: [] }, errors: [err] })),
  }] });
  const meterProvider = new MeterProvider({ resource: metricsResource, readers: [prometheus] });
  const tracer: Tracer = tracerProvider.getTracer('claude-otel-bridge');
  const logger: Logger = loggerProvider.getLogger('claude-otel-bridge');

  return {
    tracker,
    replaying: router.replaying,
    prometheus,
    meter: meterProvider.getMeter('claude-otel-bridge'),
    modelCallMeter: modelCallProvider.getMeter(MODEL_CALL_SCOPE),
    emitSpan(record, seq) {
      tracker.track(record.spanId, seq);
      ids.preset(record.traceId, record.spanId);
      const parent = record.parentSpanId
        ? trace.setSpanContext(ROOT_CONTEXT, { traceId: record.traceId, spanId: record.parentSpanId, traceFlags: TraceFlags.SAMPLED })
        : ROOT_CONTEXT;
      const links = record.links?.map((l) => ({ context: { traceId: l.traceId, spanId: l.spanId, traceFlags: l.traceFlags, isRemote: true }, attributes: l.attributes as OtelAttributes }));
      const span = tracer.startSpan(record.name, { kind: SpanKind.INTERNAL, startTime: hr(record.startMs), attributes: record.attributes as OtelAttributes, ...(links ? { links } : {}) }, parent);
      for (const event of record.events) span.addEvent(event.name, event.attributes as OtelAttributes, hr(event.timeMs));
      if (record.status.code === 'error') span.setStatus({ code: SpanStatusCode.ERROR, message: record.status.message ?? '' });
      span.end(hr(record.endMs));
    },
    emitLog(record) {
      logger.emit({
        timestamp: hr(record.timeMs),
        eventName: record.eventName,
        severityText: record.severity,
        severityNumber: record.severity === 'WARN' ? SeverityNumber.WARN : SeverityNumber.INFO,
        body: record.body,
        attributes: { ...record.attributes, 'event.name': record.eventName },
        context: trace.setSpanContext(ROOT_CONTEXT, { traceId: record.traceId, spanId: record.spanId, traceFlags: TraceFlags.SAMPLED }),
      });
    },
    async forceFlush() {
      for (const p of spanProcessors) await p.forceFlush();
      for (const p of logRecordProcessors) await p.forceFlush();
      await tracker.forceFlush?.();
    },
    async shutdown() {
      await this.forceFlush();
      await tracerProvider.shutdown();
      await loggerProvider.shutdown();
      await meterProvider.shutdown();
      await modelCallProvider.shutdown();
    },
  };
}
