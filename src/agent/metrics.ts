/** The agent's own metrics, served at /metrics on its port (Prometheus text format). */
import type { Counter, Histogram, Meter } from '@opentelemetry/api';
import { createSummedCounter } from './summed-counter.js';

export interface AgentMetrics {
  /** Per-event counting without the SDK's per-call attribute hashing (./summed-counter.ts). */
  countEvent(event: string, transport: string): void;
  rejected: Counter;
  exported: Counter;
  exportFailures: Counter;
  dropped: Counter;
  gaps: Counter;
  handling: Histogram;
  /** Events and fragments set aside in the quarantine, by stage (ingest, spool, replay, journal) and reason. */
  quarantined: Counter;
  quarantineDropped: Counter;
  /** Entries of spool/rejected/ removed, oldest first, past its bound (count and bytes). */
  spoolRejectedEvicted: Counter;
  journalWriteFailures: Counter;
  /** Events answered with a non-200 because they could not be kept on disk, by transport. */
  unacknowledged: Counter;
  unauthorized: Counter;
  fieldsDropped: Counter;
}

export interface GaugeSources {
  openSpans(): number;
  openSessions(): number;
  spoolBacklog(): number;
  exportPending(): number;
  journalBytes(): number;
  quarantineEntries(): number;
  exportBufferBytes(): number;
}

/** The attributes of a `claude_otel.events` key (`event NUL transport`). */
function eventAttributes(key: string) {
  const cut = key.indexOf('\u0000');
  return { event: key.slice(0, cut), transport: key.slice(cut + 1) };
}

export function createAgentMetrics(meter: Meter, gauges: GaugeSources): AgentMetrics {
  const gauge = (name: string, description: string, read: () => number) =>
    meter.createObservableGauge(name, { description }).addCallback((r) => r.observe(read()));
  gauge('claude_otel.open_spans', 'Spans opened by a hook event and not yet closed', gauges.openSpans);
  gauge('claude_otel.open_sessions', 'Claude Code sessions with an open root or segment span', gauges.openSessions);
  gauge('claude_otel.spool_backlog', 'Spooled hook events not yet ingested', gauges.spoolBacklog);
  gauge('claude_otel.export_pending', 'Closed spans not yet confirmed exported', gauges.exportPending);
  gauge('claude_otel.journal_bytes', 'Size of the event journal', gauges.journalBytes);
  gauge('claude_otel.export_buffer_bytes', 'Estimated size of the spans held by the export buffer (sent, retried, or dropped oldest past export.bufferMaxBytes)', gauges.exportBufferBytes);
  gauge('claude_otel.quarantine_entries', 'Entries kept in the quarantine directory', gauges.quarantineEntries);
  const events = createSummedCounter(meter, 'claude_otel.events', { description: 'Hook events accepted, by event name and transport' });
  return {
    countEvent: (event, transport) => events.add(`${event}\u0000${transport}`, 1, eventAttributes),
    rejected: meter.createCounter('claude_otel.events_rejected', { description: 'Hook events rejected, by reason' }),
    exported: meter.createCounter('claude_otel.spans_exported', { description: 'Spans confirmed exported' }),
    exportFailures: meter.createCounter('claude_otel.export_failures', { description: 'Span export attempts that failed, counted per span (kept in the export buffer and retried)' }),
    dropped: meter.createCounter('claude_otel.spans_dropped', { description: 'Spans given up, by reason: buffer_full (oldest, past export.bufferMaxBytes while the endpoint was unreachable), refused (the endpoint answered 400/413)' }),
    gaps: meter.createCounter('claude_otel.gaps', { description: 'Spans closed or opened without their hook event (event lost while the agent was down)' }),
    quarantined: meter.createCounter('claude_otel.quarantined', { description: 'Inputs that failed to parse, normalize or apply, set aside in the quarantine, by stage and reason' }),
    quarantineDropped: meter.createCounter('claude_otel.quarantine_dropped', { description: 'Quarantine entries evicted past the bound or not written (disk full)' }),
    spoolRejectedEvicted: meter.createCounter('claude_otel.spool_rejected_evicted', { description: 'Rejected spool entries removed, oldest first, past the bound of spool/rejected/ (count and bytes)' }),
    journalWriteFailures: meter.createCounter('claude_otel.journal_write_failures', { description: 'Journal writes the disk refused (retried until it takes them)' }),
    unacknowledged: meter.createCounter('claude_otel.events_unacknowledged', { description: 'Events answered 503 because they could not be kept on disk, by transport' }),
    unauthorized: meter.createCounter('claude_otel.unauthorized_requests', { description: 'HTTP requests refused: wrong or missing token, or a Host header that is not loopback (not events: no alert fires on them)' }),
    fieldsDropped: meter.createCounter('claude_otel.event_fields_dropped', { description: 'Top-level event fields beyond the per-event cap, not kept' }),
    handling: meter.createHistogram('claude_otel.handling_duration', {
      description: 'Time from receipt to journaled and applied, per event, by transport (http: its hook waits for it; spool: drained after the hook exited)',
      unit: 'ms',
      advice: { explicitBucketBoundaries: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100] },
    }),
  };
}
