/**
 * `claude-otel agent`: the long-lived local process that owns the OTel SDK. Composes the journal,
 * spool, trace builder, telemetry and HTTP server; replays the journal at start; reaps sessions
 * whose Claude Code process is gone; exits when idle; flushes everything on SIGTERM.
 */
import { existsSync, readFileSync, renameSync, unlinkSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.js';
import { otlpSignalUrl } from '../config/load.js';
import { createTraceBuilder } from '../model/trace-builder.js';
import { createRedactor, captureValue } from '../privacy/redact.js';
import { createLocalStoreExporter } from '../store/local-store.js';
import { createJournal } from './journal.js';
import { createIngestor } from './ingest.js';
import { createAgentMetrics } from './metrics.js';
import { ensureHome, ensureToken, homePaths } from './paths.js';
import { createAgentServer } from './server.js';
import { createSpool } from './spool.js';
import { startTelemetry } from './telemetry.js';
import { categorizer } from './categorize.js';
import { openSpansOf } from './open-spans.js';

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

export class AgentAlreadyRunning extends Error {}

/** The hook script writes its event straight into spool/new: a young file that does not parse yet may still be being written. */
const SPOOL_WRITE_GRACE_MS = 2000;

function isCompleteJson(body: string): boolean {
  try {
    JSON.parse(body);
    return true;
  } catch {
    return false;
  }
}

/** True when the process exists and is not a zombie (Linux: /proc/PID/stat state Z or X). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc here: kill(0) is all we know
  }
}

function readNumber(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function writeAtomic(file: string, text: string) {
  writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { config } = options;
  const env = options.env ?? process.env;
  const log = options.log ?? ((m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`));
  const paths = homePaths(config.home);
  ensureHome(paths);
  const running = readNumber(paths.pidFile);
  if (running && running !== process.pid && isAlive(running)) throw new AgentAlreadyRunning(`agent already running (pid ${running})`);
  const token = ensureToken(paths);

  const journal = createJournal(paths.journal);
  const spool = createSpool(paths);
  const store = createLocalStoreExporter({ dir: paths.store, maxBytes: config.store.maxBytes, maxAgeHours: config.store.maxAgeHours });
  const builder = createTraceBuilder({ categorize: categorizer(config) });
  const redactor = createRedactor({ extraPatterns: config.redaction.extraPatterns });
  const e = config.export;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, '');
  const tracesUrl = otlpSignalUrl(config, 'traces') ?? env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base ? `${base}/v1/traces` : undefined);
  const logsUrl = otlpSignalUrl(config, 'logs') ?? env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT ?? (base ? `${base}/v1/logs` : undefined);

  const failures: { atMs: number; count: number }[] = [];
  let metricsRef: ReturnType<typeof createAgentMetrics> | undefined;
  const initialWatermark = readNumber(paths.watermark) ?? 0;
  const telemetry = startTelemetry({
    serviceName: env.OTEL_SERVICE_NAME ?? e.serviceName,
    resourceAttributes: e.resourceAttributes,
    otlp: tracesUrl !== undefined,
    otlpTracesEndpoint: tracesUrl,
    otlpLogsEndpoint: logsUrl,
    otlpHeaders: e.otlpHeaders,
    localStore: store,
    keepLocalCopy: config.store.localCopy,
    flushDelayMs: e.flushDelayMs,
    maxExportBatchSize: e.maxExportBatchSize,
    maxQueueSize: e.maxQueueSize,
    exportTimeoutMs: e.exportTimeoutMs,
    initialWatermark,
    hooks: {
      onExported: (n) => metricsRef?.exported.add(n),
      onFailed: (n, error) => {
        metricsRef?.exportFailures.add(n);
        failures.push({ atMs: Date.now(), count: n });
        if (failures.length > 1000) failures.splice(0, failures.length - 1000);
        log(`export of ${n} spans failed (will retry): ${String((error as Error | undefined)?.message ?? error)}`);
      },
      onDropped: (n) => metricsRef?.dropped.add(n),
    },
  });
  const openSessions = () => builder.openSessions().length;
  const metrics = createAgentMetrics(telemetry.meter, {
    openSpans: () => builder.openSpanCount(),
    openSessions,
    spoolBacklog: () => spool.backlog(),
    exportPending: () => telemetry.tracker.pending(),
    journalBytes: () => journal.sizeBytes(),
  });
  metricsRef = metrics;
  const ingestor = createIngestor({
    journal, builder, sink: telemetry, metrics, log,
    normalize: {
      capture: config.capture,
      captureValue: (v) => captureValue(v, { maxBytes: config.capture.maxValueBytes, redactor }),
    },
  });

  const replayed = ingestor.replay(initialWatermark);
  if (replayed.events) log(`replayed ${replayed.events} journaled events (${replayed.corrupt} unreadable), watermark ${initialWatermark}`);
  // The last run did not stop cleanly (crash, kill -9): what happened meanwhile may be missing.
  if (!existsSync(paths.cleanStop) && replayed.events) {
    const marked = ingestor.markOutage(Date.now());
    if (marked) log(`previous agent stopped uncleanly: marked the outage on ${marked} open sessions`);
  }
  try {
    unlinkSync(paths.cleanStop);
  } catch {
    /* first start, or after a crash */
  }

  let lastActivity = Date.now();
  // Spooled events go to the journal (one write), then their files are removed.
  let spoolDirty = true;
  const drainSpool = () => {
    spoolDirty = false;
    const names = spool.list();
    if (names.length === 0) return;
    const consumed: string[] = [];
    const rejected: string[] = [];
    for (const name of names) {
      const item = spool.read(name);
      if (!item) continue;
      if (Date.now() - item.timeMs < SPOOL_WRITE_GRACE_MS && !isCompleteJson(item.body)) {
        spoolDirty = true; // a hook may still be writing it: next time
        continue;
      }
      const result = ingestor.ingest(item.body, { timeMs: item.timeMs, via: 'spool', pid: item.pid });
      (result.ok ? consumed : rejected).push(name);
    }
    journal.flush();
    for (const name of consumed) spool.consume(name);
    for (const name of rejected) spool.reject(name);
    lastActivity = Date.now();
  };
  drainSpool();

  const server = createAgentServer({
    token,
    maxBodyBytes: 64 * 1024 * 1024,
    onHook(body, meta) {
      const timeMs = performance.timeOrigin + performance.now();
      // Command-hook events that came before this one go first. The spool is known to have changed
      // from fs.watch (inotify), which fires as soon as the hook writes, well before Claude Code's
      // next http hook; the trace builder also tolerates the rare reordering under load.
      if (spoolDirty) drainSpool();
      ingestor.ingest(body, { timeMs, via: meta.via, pid: meta.pid });
      lastActivity = Date.now();
      return journal.flushSoon(); // answered once journaled
    },
    onRejected: (reason) => metrics.rejected.add(1, { reason }),
    health: () => ({ status: 'ok', pid: process.pid, version: options.version ?? 'dev' }),
    status: () => ({
      pid: process.pid,
      version: options.version ?? 'dev',
      openSpans: builder.openSpanCount(),
      exportPending: telemetry.tracker.pending(),
      retryBacklog: telemetry.tracker.retryBacklog(),
      spoolBacklog: spool.backlog(),
      watermark: telemetry.tracker.watermark(),
      lastSeq: ingestor.lastSeq(),
      gaps: builder.counters.gaps,
      exportFailuresLastHour: failures.filter((f) => f.atMs > Date.now() - 3_600_000).reduce((n, f) => n + f.count, 0),
      otlp: tracesUrl ?? null,
      sessions: builder.openSessions().map((s) => ({
        sessionId: s.sessionId, traceId: s.traceId, pid: s.pid ?? null, openTurns: s.turns.size, openTools: s.tools.size,
        openAgents: s.agents.size, lastEventMs: s.lastEventMs, spans: openSpansOf(s),
      })),
    }),
    metrics: (req, res) => telemetry.prometheus.getMetricsRequestHandler(req, res),
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.agent.port, config.agent.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (err: NodeJS.ErrnoException) => {
    await telemetry.shutdown();
    journal.close();
    if (err.code === 'EADDRINUSE') throw new AgentAlreadyRunning(`port ${config.agent.host}:${config.agent.port} is in use`);
    throw err;
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.agent.host}:${port}`;
  writeAtomic(paths.pidFile, `${process.pid}\n`);
  writeAtomic(paths.agentInfo, JSON.stringify({ pid: process.pid, url, port, startedAt: new Date().toISOString(), version: options.version ?? 'dev' }));
  log(`agent listening on ${url} (pid ${process.pid}), exporting to ${tracesUrl ?? 'the local store only'}`);

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(paths.spoolNew, () => {
      spoolDirty = true;
      setImmediate(() => spoolDirty && drainSpool());
    });
  } catch {
    /* polling below still drains */
  }
  let persisted = initialWatermark;
  const timers = [
    setInterval(drainSpool, 250),
    setInterval(() => {
      const mark = telemetry.tracker.watermark();
      if (mark !== persisted) writeAtomic(paths.watermark, `${mark}\n`);
      persisted = mark;
      if (journal.sizeBytes() > Math.max(4 * 1024 * 1024, 2 * compactedSize)) compact();
    }, 1000),
    setInterval(reap, config.agent.reaperIntervalSeconds * 1000),
  ];

  // Compaction re-reads the journal: only when it has doubled since the last one (the export
  // watermark can lag, so a journal above the floor may not shrink much).
  let compactedSize = 0;
  function compact() {
    const mark = telemetry.tracker.watermark();
    const live = new Set(builder.openSessions().map((s) => s.sessionId));
    journal.compact((ev) => ev.seq > mark || live.has(ev.sessionId));
    compactedSize = journal.sizeBytes();
  }

  function reap() {
    const now = Date.now();
    for (const s of builder.openSessions()) {
      if (s.pid && !isAlive(s.pid)) ingestor.closeSession(s.sessionId, 'process_exited', now);
      else if (now - s.lastEventMs > config.agent.sessionIdleCloseSeconds * 1000) ingestor.closeSession(s.sessionId, 'idle', now);
    }
    builder.evictEnded(now - 3_600_000);
    const idleFor = now - lastActivity;
    if (config.agent.idleExitSeconds > 0 && openSessions() === 0 && spool.backlog() === 0 && idleFor > config.agent.idleExitSeconds * 1000) {
      void shutdown('idle');
    }
  }

  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let stopping: Promise<void> | undefined;
  function shutdown(reason = 'shutdown'): Promise<void> {
    stopping ??= (async () => {
      log(`agent stopping (${reason})`);
      for (const t of timers) clearInterval(t);
      watcher?.close();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeIdleConnections?.();
      });
      drainSpool();
      await telemetry.forceFlush();
      writeAtomic(paths.watermark, `${telemetry.tracker.watermark()}\n`);
      compact();
      await telemetry.shutdown();
      journal.close();
      writeAtomic(paths.cleanStop, `${new Date().toISOString()}\n`);
      if (readNumber(paths.pidFile) === process.pid) {
        for (const f of [paths.pidFile, paths.agentInfo]) if (existsSync(f)) unlinkSync(f);
      }
      resolveClosed();
    })();
    return stopping;
  }

  return { port, url, shutdown, closed };
}
