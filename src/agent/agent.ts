/**
 * `claude-otel agent`: the long-lived local process that owns the OTel SDK. This file is its
 * composition root only: build the components (create → start → shutdown, see component.ts), start
 * them in order, shut them down in reverse. Each guarantee lives in its component: journal.ts
 * (crash-safe, disk-full tolerant), quarantine.ts (poison set aside), spool-drainer.ts (untrusted
 * spool entries), ingest.ts (per-event limits and isolation), watermark.ts (watermark, compaction),
 * reaper.ts (dead sessions, idle exit), listener.ts (HTTP), exporter.ts (SDK), process-files.ts.
 */
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { createTraceBuilder } from '../model/trace-builder.js';
import { createRedactor, captureValue } from '../privacy/redact.js';
import { createModelCalls } from './model-calls.js';
import { createRejectedBound } from './rejected-bound.js';
import { categorizer } from './categorize.js';
import { createStartOrder } from './component.js';
import { MAX_EVENT_BYTES } from './event-limits.js';
import { createExporter } from './exporter.js';
import { createIngestor } from './ingest.js';
import { createJournal } from './journal.js';
import { createListener } from './listener.js';
import { createAgentMetrics, type AgentMetrics } from './metrics.js';
import { ensureHome, ensureToken, homePaths } from './paths.js';
import { AgentAlreadyRunning, createProcessFiles } from './process-files.js';
import { createQuarantine } from './quarantine.js';
import { createReaper } from './reaper.js';
import { createSpool } from './spool.js';
import { createSpoolDrainer } from './spool-drainer.js';
import { createStatus } from './status.js';
import { createWatermark } from './watermark.js';
import { clearStartFailure, recordStartFailure, startFailureOf } from './start-marker.js';
import { ownsDirectory } from '../shared/home.js';

export { AgentAlreadyRunning };
export { isAlive } from './reaper.js';

export interface AgentOptions {
  config: Config;
  env?: NodeJS.ProcessEnv;
  log?: (message: string) => void;
  version?: string;
}

export interface RunningAgent {
  port: number;
  url: string;
  /** Idempotent. */
  shutdown(reason?: string): Promise<void>;
  closed: Promise<void>;
}

/**
 * Starts the agent, or records why it cannot (agent.start-failed: the hooks then spool without
 * waiting and back off, doctor explains). A home that is not ours gets nothing, not even the marker.
 */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`));
  const paths = homePaths(options.config.home);
  try {
    const agent = await startComponents({ ...options, log });
    clearStartFailure(paths);
    return agent;
  } catch (err) {
    if (err instanceof AgentAlreadyRunning) throw err;
    const failure = startFailureOf(err);
    log(`agent cannot start (${failure.code}): ${failure.reason}`);
    if (!ownsDirectory(paths.home)) throw err;
    try {
      const marked = recordStartFailure(paths, failure);
      log(`hooks spool meanwhile and start the agent again after ${new Date(marked.retryAtSec * 1000).toISOString()}`);
    } catch (markErr) {
      log(`could not write ${paths.startFailed}: ${(markErr as Error).message}`);
    }
    throw err;
  }
}

async function startComponents(options: AgentOptions & { log: (message: string) => void }): Promise<RunningAgent> {
  const { config, log } = options;
  const version = options.version ?? 'dev';
  const paths = homePaths(config.home);
  ensureHome(paths, log); // the home is ours or refused (HomeRefused): owner, modes, no links
  const files = createProcessFiles(paths);
  files.claim(); // agent.lock (pid + start time): throws AgentAlreadyRunning; a reused pid does not block
  const token = ensureToken(paths);

  // Build. Counters exist once the exporter's meter does; the components that count are built before it.
  let m: AgentMetrics | undefined;
  const builder = createTraceBuilder({ categorize: categorizer(config) });
  const quarantine = createQuarantine({ dir: paths.quarantine, log, onQuarantined: (stage, reason) => m?.quarantined.add(1, { stage, reason }), onDropped: (n) => m?.quarantineDropped.add(n) });
  const journal = createJournal(paths.journal, { quarantine, log, onWriteFailure: () => m?.journalWriteFailures.add(1) });
  const tracker = () => exporter.telemetry.tracker;
  const watermark = createWatermark({ file: paths.watermark, journal, log, current: () => tracker().watermark(), openState: () => builder.openSessions(), flush: () => exporter.telemetry.forceFlush() });
  const exporter = createExporter(config, paths, watermark.initial, log);
  const { telemetry } = exporter;
  const metrics = (m = createAgentMetrics(telemetry.meter, {
    openSpans: () => builder.openSpanCount(), openSessions: () => builder.openSessions().length, spoolBacklog: () => drainer.backlog(),
    exportPending: () => tracker().pending(), journalBytes: () => journal.sizeBytes(), quarantineEntries: () => quarantine.summary().count,
    exportBufferBytes: () => tracker().buffer().bytes,
  }));
  exporter.setHooks({ onExported: (n) => metrics.exported.add(n), onFailed: (n) => metrics.exportFailures.add(n), onDropped: (n, reason) => metrics.dropped.add(n, { reason }) });
  const redactor = createRedactor({ extraPatterns: config.redaction.extraPatterns });
  const modelCalls = createModelCalls({
    home: paths.home, ...config.modelCalls, sink: telemetry, meter: telemetry.modelCallMeter, healthMeter: telemetry.meter, watermark: () => tracker().watermark(), log, env: options.env ?? process.env,
    ...(config.capture.modelMessages ? { capture: (v: unknown) => captureValue(v, { maxBytes: config.capture.maxValueBytes, redactor }) } : {}),
  });
  const ingestor = createIngestor({
    journal, builder, sink: telemetry, quarantine, metrics, log, maxEventBytes: MAX_EVENT_BYTES,
    beforeApply: modelCalls.observe, decorate: modelCalls.decorate,
    normalize: { capture: config.capture, captureValue: (v) => captureValue(v, { maxBytes: config.capture.maxValueBytes, redactor }) },
  });
  const a = config.agent;
  const reaper = createReaper({
    intervalMs: a.reaperIntervalSeconds * 1000, sessionIdleCloseMs: a.sessionIdleCloseSeconds * 1000, idleExitMs: a.idleExitSeconds * 1000, log,
    openSessions: () => builder.openSessions(), closeSession: ingestor.closeSession, evictEnded: (t) => builder.evictEnded(t),
    spoolBacklog: () => drainer.backlog(), takeSpooledFor: (pids) => drainer.takeNowFor(pids), exportBacklog: () => tracker().retryBacklog(), onIdle: () => void shutdown('idle'),
  });
  const drainer = createSpoolDrainer({
    spool: createSpool(paths, { rejected: createRejectedBound({ dir: paths.spoolRejected, onEvicted: (n) => m?.spoolRejectedEvicted.add(n) }) }), spoolDir: paths.spoolNew, journal, quarantine, log, maxEventBytes: MAX_EVENT_BYTES, ingest: ingestor.ingest,
    onRejected: (reason) => metrics.rejected.add(1, { reason }), onActivity: () => reaper.touch(),
  });
  const listener = createListener({
    host: a.host, port: a.port, token, maxBodyBytes: MAX_EVENT_BYTES, version, ingest: ingestor.ingest, journal, metrics,
    before: () => drainer.drainIfDirty(), after: () => reaper.touch(),
    metricsHandler: (req, res) => telemetry.prometheus.getMetricsRequestHandler(req, res),
    onUnauthorized: (reason, route) => metrics.unauthorized.add(1, { reason, route }),
    status: createStatus({
      version, otlp: exporter.tracesUrl, openSpans: () => builder.openSpanCount(), exportPending: () => tracker().pending(),
      retryBacklog: () => tracker().retryBacklog(), spoolBacklog: () => drainer.backlog(), watermark: () => tracker().watermark(),
      lastSeq: ingestor.lastSeq, gaps: () => builder.counters.gaps, exportFailuresLastHour: exporter.failuresLastHour,
      journal: journal.stats, quarantine: quarantine.summary, sessions: () => builder.openSessions(),
      exportBuffer: () => tracker().buffer(), exportHeaders: exporter.headers,
    }),
  });

  // Start in order; shut down in reverse, once, only what started.
  const order = createStartOrder(log);
  let stopping: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  function shutdown(reason = 'shutdown', clean = true): Promise<void> {
    stopping ??= (async () => {
      log(`agent stopping (${reason})`);
      await order.shutdown();
      try {
        if (clean) files.markCleanStop(); // a full disk refuses it: the next start then marks gaps, which is safe
      } finally {
        files.release();
        resolveClosed();
      }
    })().catch((err: unknown) => log(`agent stop: ${(err as Error).message}`));
    return stopping;
  }
  let previousClean = false;
  try {
    await order.start(quarantine, journal, exporter, modelCalls); // model calls stop after the watermark's last flush, before the SDK
    const replayed = telemetry.replaying(() => ingestor.replay(watermark.initial)); // unexported spans of the last run: straight to the export buffer
    if (replayed.events || replayed.corrupt) log(`replayed ${replayed.events} journaled events (${replayed.corrupt} unreadable, ${replayed.failed.size} quarantined), watermark ${watermark.initial}`);
    if (replayed.failed.size || replayed.corrupt) watermark.compact(replayed.failed); // the next start does not meet them again
    // The last run did not stop cleanly (crash, kill -9): what happened meanwhile may be missing.
    previousClean = files.takeCleanStop();
    if (!previousClean && replayed.events) log(`previous agent stopped uncleanly: marked the outage on ${ingestor.markOutage(Date.now())} open sessions`);
    await order.start(watermark, drainer, listener);
    const { port, url } = listener.address();
    files.publish({ url, port, version }); // seam: agent.json, once listening (it names the port)
    await order.start(reaper);
    log(`agent listening on ${url} (pid ${process.pid}), exporting to ${exporter.tracesUrl ?? 'the local store only'}`);
    return { port, url, shutdown, closed };
  } catch (err) {
    await shutdown(`start failed: ${(err as Error).message}`, previousClean); // a clean stop before stays one
    throw err;
  }
}
