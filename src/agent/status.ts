/**
 * The agent's status, served at GET /v1/status (token required) and read by `claude-otel status`
 * and `doctor`: one exported type, one builder. Also the window of export failures of the last hour.
 */
import type { ExportBufferStats } from './export-buffer.js';
import type { JournalStats } from './journal.js';
import type { HeaderSourceStats } from './otlp-headers.js';
import type { QuarantineSummary } from './quarantine.js';
import type { SessionState } from '../model/open-span.js';
import { openSpansOf, type OpenSpanStatus } from './open-spans.js';

export interface AgentSessionStatus {
  sessionId: string;
  traceId: string;
  pid: number | null;
  openTurns: number;
  openTools: number;
  openAgents: number;
  lastEventMs: number;
  /** What is running right now (names, parents, start times): the web view's ticking spans. */
  spans: OpenSpanStatus[];
}

export interface AgentStatus {
  pid: number;
  version: string;
  openSpans: number;
  exportPending: number;
  retryBacklog: number;
  spoolBacklog: number;
  watermark: number;
  lastSeq: number;
  gaps: number;
  exportFailuresLastHour: number;
  otlp: string | null;
  /** The retrying export buffer: what it holds, what it dropped since the agent started, the last error. */
  exportBuffer: ExportBufferStats;
  /** The export headers command (export.otlpHeadersCommand): runs and the last failure, never its output. */
  exportHeaders: HeaderSourceStats;
  journal: JournalStats;
  quarantine: QuarantineSummary;
  sessions: AgentSessionStatus[];
}

export interface StatusSources {
  version: string;
  openSpans(): number;
  exportPending(): number;
  retryBacklog(): number;
  spoolBacklog(): number;
  watermark(): number;
  lastSeq(): number;
  gaps(): number;
  exportFailuresLastHour(): number;
  otlp: string | undefined;
  exportBuffer(): ExportBufferStats;
  exportHeaders(): HeaderSourceStats;
  journal(): JournalStats;
  quarantine(): QuarantineSummary;
  sessions(): SessionState[];
}

export function createStatus(sources: StatusSources): () => AgentStatus {
  return () => ({
    pid: process.pid,
    version: sources.version,
    openSpans: sources.openSpans(),
    exportPending: sources.exportPending(),
    retryBacklog: sources.retryBacklog(),
    spoolBacklog: sources.spoolBacklog(),
    watermark: sources.watermark(),
    lastSeq: sources.lastSeq(),
    gaps: sources.gaps(),
    exportFailuresLastHour: sources.exportFailuresLastHour(),
    otlp: sources.otlp ?? null,
    exportBuffer: sources.exportBuffer(),
    exportHeaders: sources.exportHeaders(),
    journal: sources.journal(),
    quarantine: sources.quarantine(),
    sessions: sources.sessions().map((s) => ({
      sessionId: s.sessionId, traceId: s.traceId, pid: s.pid ?? null, openTurns: s.turns.size, openTools: s.tools.size,
      openAgents: s.agents.size, lastEventMs: s.lastEventMs, spans: openSpansOf(s),
    })),
  });
}

/** Export failures of the last hour (a bounded list of timestamps and counts). */
export function createFailureWindow(now: () => number = Date.now) {
  const failures: { atMs: number; count: number }[] = [];
  return {
    add(count: number) {
      failures.push({ atMs: now(), count });
      if (failures.length > 1000) failures.splice(0, failures.length - 1000);
    },
    lastHour: () => failures.filter((f) => f.atMs > now() - 3_600_000).reduce((n, f) => n + f.count, 0),
  };
}
