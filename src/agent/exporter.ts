/**
 * The exporter component: the OTel SDK (telemetry.ts) with the local store, the export tracker and
 * its hooks, built from the effective config (endpoints are resolved once, in src/config). Start
 * does nothing the constructor has not done; shutdown flushes and closes the providers, once.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config/schema.js';
import { otlpSignalUrl } from '../config/load.js';
import { createLocalStoreExporter } from '../store/local-store.js';
import type { Component, Log } from './component.js';
import type { HomePaths } from './paths.js';
import { createHeaderSource, type HeaderSourceStats } from './otlp-headers.js';
import { otlpExporterOptions, readTlsMaterial } from './otlp-options.js';
import type { DropReason } from './export-buffer.js';
import { createFailureWindow } from './status.js';
import { startTelemetry, type Telemetry } from './telemetry.js';

export interface ExporterHooks {
  onExported(n: number): void;
  onFailed(n: number): void;
  onDropped(n: number, reason: DropReason): void;
}

export interface Exporter extends Component {
  readonly telemetry: Telemetry;
  readonly tracesUrl: string | undefined;
  readonly metricsUrl: string | undefined;
  failuresLastHour(): number;
  headers(): HeaderSourceStats;
  /** Counters are created on the telemetry's meter after it exists: wired here. */
  setHooks(hooks: ExporterHooks): void;
}

/**
 * The OTLP metrics URL: only beside a traces endpoint (the same collector): the base endpoint's
 * /v1/metrics, or a full traces URL ending in /v1/traces with /v1/metrics instead. Nothing guessed.
 */
export function metricsUrlFor(config: Config): string | undefined {
  if (otlpSignalUrl(config, 'traces') === undefined) return undefined;
  if (config.export.otlpEndpoint) return otlpSignalUrl(config, 'metrics');
  const traces = config.export.otlpTracesEndpoint!;
  return /\/v1\/traces\/?$/.test(traces) ? traces.replace(/\/v1\/traces\/?$/, '/v1/metrics') : undefined;
}

/** Stable across restarts of one agent (same machine, same home), distinct between agents; no name leaks. */
export const agentInstanceId = (home: string): string =>
  createHash('sha256').update(`${hostname()}\u0000${home}`).digest('hex').slice(0, 32);

export function createExporter(config: Config, paths: HomePaths, initialWatermark: number, log: Log): Exporter {
  const e = config.export;
  const tracesUrl = otlpSignalUrl(config, 'traces');
  const logsUrl = otlpSignalUrl(config, 'logs');
  const metricsUrl = metricsUrlFor(config);
  const interval = Number(process.env.OTEL_METRIC_EXPORT_INTERVAL);
  const failures = createFailureWindow();
  let hooks: ExporterHooks | undefined;
  const store = createLocalStoreExporter({ dir: paths.store, maxBytes: config.store.maxBytes, maxAgeHours: config.store.maxAgeHours });
  const headers = createHeaderSource({
    headers: e.otlpHeaders, command: e.otlpHeadersCommand, timeoutMs: e.otlpHeadersCommandTimeoutMs, ttlMs: e.otlpHeadersTtlSeconds * 1000, log,
  });
  const tls = tracesUrl ? readTlsMaterial(e.tls) : {};
  const telemetry = startTelemetry({
    serviceName: e.serviceName,
    resourceAttributes: e.resourceAttributes,
    otlp: tracesUrl
      ? {
          traces: otlpExporterOptions(config, tracesUrl, headers, tls),
          logs: otlpExporterOptions(config, logsUrl, headers, tls),
          metrics: metricsUrl ? otlpExporterOptions(config, metricsUrl, headers, tls) : undefined,
        }
      : undefined,
    ...(Number.isInteger(interval) && interval >= 100 ? { metricsExportIntervalMs: interval } : {}),
    metricsInstanceId: agentInstanceId(paths.home),
    bufferMaxBytes: e.bufferMaxBytes,
    retryMaxBackoffMs: e.retryMaxBackoffMs,
    localStore: store,
    keepLocalCopy: config.store.localCopy,
    flushDelayMs: e.flushDelayMs,
    maxExportBatchSize: e.maxExportBatchSize,
    maxQueueSize: e.maxQueueSize,
    initialWatermark,
    hooks: {
      onExported: (n) => hooks?.onExported(n),
      onFailed: (n, error) => {
        hooks?.onFailed(n);
        failures.add(n);
        const status = (error as { code?: unknown } | undefined)?.code;
        log(`export of ${n} spans failed (kept for retry): ${typeof status === 'number' ? `HTTP ${status} ` : ''}${String((error as Error | undefined)?.message ?? error).slice(0, 300)}`);
      },
      onDropped: (n, reason) => {
        hooks?.onDropped(n, reason);
        log(reason === 'buffer_full'
          ? `export buffer above export.bufferMaxBytes (${e.bufferMaxBytes}): dropped the ${n} oldest spans (counted in claude_otel.spans_dropped)`
          : `the endpoint refused ${n} spans for good (400/413): dropped (counted in claude_otel.spans_dropped)`);
      },
      onAuthRejected: () => headers.invalidate(),
    },
  });
  let stopping: Promise<void> | undefined;
  return {
    name: 'exporter',
    telemetry,
    tracesUrl,
    metricsUrl,
    failuresLastHour: failures.lastHour,
    headers: headers.stats,
    setHooks(h) {
      hooks = h;
    },
    start() {},
    shutdown() {
      stopping ??= telemetry.shutdown().catch((err: unknown) => log(`exporter shutdown failed: ${(err as Error).message}`));
      return stopping;
    },
  };
}
