/**
 * `claude-otel agent`: the long-lived local process that owns the OTel SDK. This file is its
 * composition root only: it builds the components (each with create → start → shutdown, see
 * component.ts), starts them in order, and shuts them down in reverse. What each guarantees lives
 * in the component: journal.ts (crash-safe, disk-full tolerant), quarantine.ts (poison kept aside),
 * spool-drainer.ts (safe spool reading), ingest.ts (per-event limits and isolation), watermark.ts
 * (persisted watermark, compaction), reaper.ts (dead sessions, idle exit), process-files.ts.
 */
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.js';
import { createTraceBuilder } from '../model/trace-builder.js';
import { createRedactor, captureValue } from '../privacy/redact.js';
import type { Component } from './component.js';
import { MAX_EVENT_BYTES } from './event-limits.js';
import { createExporter } from './exporter.js';
import { createIngestor } from './ingest.js';
import { createJournal, JournalUnavailable } from './journal.js';
import { createAgentMetrics } from './metrics.js';
import { ensureHome, ensureToken, homePaths } from './paths.js';
import { AgentAlreadyRunning, createProcessFiles } from './process-files.js';
import { createQuarantine } from './quarantine.js';
import { createReaper } from './reaper.js';
import { createAgentServer } from './server.js';
import { createSpool } from './spool.js';
import { createSpoolDrainer } from './spool-drainer.js';
import { createStatus } from './status.js';
import { createWatermark } from './watermark.js';
import { categorizer } from './categorize.js';

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
  shutdown(reason?: string): Promise<void>;
  closed: Promise<void>;
}

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { config } = options;
  const version = options.version ?? 'dev';
  const log = options.log ?? ((m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`));
  const paths = homePaths(config.home);
  ensureHome(paths); // seam: the identity work replaces this with a home owner/mode check
  const files = createProcessFiles(paths);
  files.claim(); // seam: stale-pid detection; throws AgentAlreadyRunning
  const token = ensureToken(paths);

  // Build.
  const builder = createTraceBuilder({ categorize: categorizer(config) });
  const watermarkFile = paths.watermark;
  let metricsRef: ReturnType<typeof createAgentMetrics> | undefined;
  const quarantine = createQuarantine({
    dir: join(paths.home, 'quarantine'), log,
    onQuarantined: (stage, reason) => metricsRef?.quarantined.add(1, { stage, reason }),
    onDropped: (n) => metricsRef?.quarantineDropped.add(n),
  });
  const journal = createJournal(paths.journal, { quarantine, log, onWriteFailure: () => metricsRef?.journalWriteFailures.add(1) });
  const spool = createSpool(paths);
  let exporterRef: ReturnType<typeof createExporter> | undefined;
  const watermark = createWatermark({
    file: watermarkFile, journal, log,
    current: () => exporterRef?.telemetry.tracker.watermark() ?? 0,
    openState: () => builder.openSessions(),
    flush: () => exporterRef?.telemetry.forceFlush() ?? Promise.resolve(),
  });
  const exporter = (exporterRef = createExporter(config, paths, watermark.initial, log));
  const { telemetry } = exporter;
  const redactor = createRedactor({ extraPatterns: config.redaction.extraPatterns });
  const ingestor = createIngestor({
    journal, builder, sink: telemetry, quarantine, log, maxEventBytes: MAX_EVENT_BYTES,
    metrics: (metricsRef = createAgentMetrics(telemetry.meter, {
      openSpans: () => builder.openSpanCount(), openSessions: () => builder.openSessions().length,
      spoolBacklog: () => drainer.backlog(), exportPending: () => telemetry.tracker.pending(),
      journalBytes: () => journal.sizeBytes(), quarantineEntries: () => quarantine.summary().count,
    })),
    normalize: { capture: config.capture, captureValue: (v) => captureValue(v, { maxBytes: config.capture.maxValueBytes, redactor }) },
  });
  const metrics = metricsRef;
  exporter.setHooks({ onExported: (n) => metrics.exported.add(n), onFailed: (n) => metrics.exportFailures.add(n), onDropped: (n) => metrics.dropped.add(n) });
  const reaper = createReaper({
    intervalMs: config.agent.reaperIntervalSeconds * 1000, sessionIdleCloseMs: config.agent.sessionIdleCloseSeconds * 1000,
    idleExitMs: config.agent.idleExitSeconds * 1000, openSessions: () => builder.openSessions(),
    closeSession: (id, reason, t) => ingestor.closeSession(id, reason, t), evictEnded: (t) => builder.evictEnded(t),
    spoolBacklog: () => drainer.backlog(), onIdle: () => void shutdown('idle'), log,
  });
  const drainer = createSpoolDrainer({
    spool, spoolDir: paths.spoolNew, journal, quarantine, log, maxEventBytes: MAX_EVENT_BYTES,
    ingest: ingestor.ingest, onRejected: (reason) => metrics.rejected.add(1, { reason }), onActivity: () => reaper.touch(),
  });
  const server = createAgentServer({
    token,
    maxBodyBytes: MAX_EVENT_BYTES,
    onHook(body, meta) {
      drainer.drainIfDirty(); // command-hook events that came before this one go first
      const result = ingestor.ingest(body, { timeMs: performance.timeOrigin + performance.now(), via: meta.via, pid: meta.pid });
      reaper.touch();
      const unacknowledged = (err: unknown) => {
        metrics.unacknowledged.add(1, { transport: meta.via });
        throw err;
      };
      if (!result.ok && result.reason === 'unavailable') return unacknowledged(new JournalUnavailable('the journal cannot take events now'));
      return journal.flushSoon().catch(unacknowledged); // answered once on disk, 503 when it is not
    },
    onRejected: (reason) => metrics.rejected.add(1, { reason }),
    health: () => ({ status: 'ok', pid: process.pid, version }),
    status: createStatus({
      version, otlp: exporter.tracesUrl, openSpans: () => builder.openSpanCount(), exportPending: () => telemetry.tracker.pending(),
      retryBacklog: () => telemetry.tracker.retryBacklog(), spoolBacklog: () => drainer.backlog(), watermark: () => telemetry.tracker.watermark(),
      lastSeq: () => ingestor.lastSeq(), gaps: () => builder.counters.gaps, exportFailuresLastHour: () => exporter.failuresLastHour(),
      journal: () => ({ ...journal.stats() }), quarantine: () => quarantine.summary(), sessions: () => builder.openSessions(),
    }),
    metrics: (req, res) => telemetry.prometheus.getMetricsRequestHandler(req, res),
  });
  const listener: Component = {
    name: 'server',
    start: () => listen(server, config.agent.host, config.agent.port), // seam: foreign-port check
    shutdown: () => new Promise<void>((r) => {
      if (!server.listening) return r();
      server.close(() => r());
      server.closeIdleConnections?.();
    }),
  };

  // Start in order; shut down in reverse (only what started), once.
  const started: Component[] = [];
  let stopping: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  function shutdown(reason = 'shutdown'): Promise<void> {
    stopping ??= (async () => {
      log(`agent stopping (${reason})`);
      for (const c of started.splice(0).reverse()) {
        await Promise.resolve().then(() => c.shutdown()).catch((err: unknown) => log(`shutdown of ${c.name} failed: ${(err as Error).message}`));
      }
      try {
        files.markCleanStop();
      } catch (err) {
        log(`could not mark the clean stop: ${(err as Error).message}`);
      }
      files.release();
      resolveClosed();
    })();
    return stopping;
  }
  const start = async (c: Component) => {
    await c.start();
    started.push(c);
  };
  try {
    for (const c of [quarantine, journal, exporter]) await start(c);
    const replayed = ingestor.replay(watermark.initial);
    if (replayed.events || replayed.corrupt) log(`replayed ${replayed.events} journaled events (${replayed.corrupt} unreadable, ${replayed.failed.size} quarantined), watermark ${watermark.initial}`);
    if (replayed.failed.size || replayed.corrupt) watermark.compact(replayed.failed); // the next start does not meet them again
    // The last run did not stop cleanly (crash, kill -9): what happened meanwhile may be missing.
    if (!files.takeCleanStop() && replayed.events) {
      const marked = ingestor.markOutage(Date.now());
      if (marked) log(`previous agent stopped uncleanly: marked the outage on ${marked} open sessions`);
    }
    for (const c of [watermark, drainer, listener]) await start(c);
    const port = (server.address() as AddressInfo).port;
    const url = `http://${config.agent.host}:${port}`;
    files.publish({ url, port, version }); // seam: agent.json (after listen: it names the port)
    await start(reaper);
    log(`agent listening on ${url} (pid ${process.pid}), exporting to ${exporter.tracesUrl ?? 'the local store only'}`);
    return { port, url, shutdown, closed };
  } catch (err) {
    stopping ??= (async () => {
      for (const c of started.splice(0).reverse()) await Promise.resolve().then(() => c.shutdown()).catch(() => {});
      files.release();
      resolveClosed();
    })();
    await stopping;
    throw err;
  }
}

function listen(server: ReturnType<typeof createAgentServer>, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE') throw new AgentAlreadyRunning(`port ${host}:${port} is in use`);
    throw err;
  });
}
