/**
 * The agent's per-event path: decode → validate → normalize → journal → trace builder → SDK.
 * Also replays the journal at start, and closes sessions on the reaper's word (journaled too,
 * so a replay reaches the same state).
 */
import { performance } from 'node:perf_hooks';
import { parseHookEvent } from '../events/schema.js';
import { normalizeEvent, type NormalizeOptions } from '../events/normalize.js';
import type { TraceBuilder } from '../model/trace-builder.js';
import type { BridgeEvent, BuilderOutput } from '../model/types.js';
import type { Journal } from './journal.js';
import type { AgentMetrics } from './metrics.js';

export interface IngestSink {
  emitSpan(record: import('../model/types.js').SpanRecord, seq: number): void;
  emitLog(record: import('../model/types.js').LogRecordOut): void;
}

export interface IngestOptions {
  journal: Journal;
  builder: TraceBuilder;
  sink: IngestSink;
  metrics: AgentMetrics;
  normalize: NormalizeOptions;
  log: (message: string) => void;
  /** Sees each live event after it is journaled and before the builder applies it (model calls). */
  beforeApply?: (event: BridgeEvent) => void;
  /** Rewrites each span the builder emits on its way to the sink (model-call roll-ups). */
  decorate?: (span: import('../model/types.js').SpanRecord) => import('../model/types.js').SpanRecord;
}

export type IngestResult = { ok: true; event: BridgeEvent } | { ok: false; reason: string };

export const CLOSE_EVENT = '@SessionClose';

export function createIngestor(options: IngestOptions) {
  const { journal, builder, sink, metrics } = options;
  let seq = 0;
  let gapsSeen = 0;

  const emit = (outputs: BuilderOutput[], minSeq: number) => {
    for (const o of outputs) {
      if (o.seq <= minSeq) continue;
      if (o.type === 'span') sink.emitSpan(options.decorate ? options.decorate(o.span) : o.span, o.seq);
      else sink.emitLog(o.log);
    }
    const gaps = builder.counters.gaps - gapsSeen;
    if (gaps > 0 && minSeq === -Infinity) metrics.gaps.add(gaps); // replayed gaps were counted by the run that saw them
    gapsSeen = builder.counters.gaps;
  };

  const reject = (reason: string): IngestResult => {
    metrics.rejected.add(1, { reason });
    return { ok: false, reason };
  };

  return {
    /** Rebuilds state from the journal; re-emits only what closed after the export watermark. */
    replay(watermark: number): { events: number; corrupt: number } {
      const { events, corrupt } = journal.readAll();
      for (const ev of events) {
        if (ev.seq > seq) seq = ev.seq;
        emit(ev.name === CLOSE_EVENT ? builder.closeSession(ev.sessionId, ev.reason ?? 'closed', ev.timeMs, ev.seq) : builder.apply(ev), watermark);
      }
      if (watermark > seq) seq = watermark;
      return { events: events.length, corrupt };
    },

    ingest(body: string, receipt: { timeMs: number; via: BridgeEvent['via']; pid?: number | undefined }): IngestResult {
      const started = performance.now();
      if (body.trim() === '') return reject('empty');
      let value: unknown;
      try {
        value = JSON.parse(body);
      } catch {
        return reject('malformed_json');
      }
      const parsed = parseHookEvent(value);
      if (!parsed.ok) {
        options.log(`rejected event: ${parsed.reason}`);
        return reject('invalid_event');
      }
      const event = normalizeEvent(parsed, { seq: seq + 1, timeMs: receipt.timeMs, via: receipt.via, pid: receipt.pid }, options.normalize);
      journal.append(event); // written before the answer (see journal.flushSoon): a crash after it loses nothing
      seq = event.seq;
      options.beforeApply?.(event);
      emit(builder.apply(event), -Infinity);
      metrics.countEvent(parsed.known ? event.name : 'other', receipt.via ?? 'unknown');
      metrics.handling.record(performance.now() - started);
      return { ok: true, event };
    },

    /** After an unclean stop: marks the outage on the open sessions and counts it. */
    markOutage(timeMs: number): number {
      const marked = builder.markOutage(timeMs);
      gapsSeen = builder.counters.gaps;
      if (marked) metrics.gaps.add(marked);
      return marked;
    },

    closeSession(sessionId: string, reason: string, timeMs: number) {
      const event: BridgeEvent = { seq: seq + 1, timeMs, name: CLOSE_EVENT, known: false, sessionId, reason };
      journal.append(event);
      journal.flush();
      seq = event.seq;
      emit(builder.closeSession(sessionId, reason, timeMs, event.seq), -Infinity);
    },

    lastSeq: () => seq,
  };
}

export type Ingestor = ReturnType<typeof createIngestor>;
