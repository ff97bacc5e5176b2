/**
 * The agent's per-event path: limits → decode → validate → normalize → trace builder → journal → SDK.
 * Also replays the journal at start, and closes sessions on the reaper's word (journaled too, so a
 * replay reaches the same state).
 *
 * Poison isolation: every stage of one event runs under one try; an event that fails any of them
 * (too big, too deep, not JSON, not an event, or a normalize/apply exception) is counted and
 * quarantined, and the agent goes on. The builder applies an event before it is journaled, so an
 * event that makes `apply` throw never reaches the journal; a journal line that throws at replay
 * is skipped, quarantined and reported, so that compaction drops it and the next start is clean.
 */
import { performance } from 'node:perf_hooks';
import { parseHookEvent } from '../events/schema.js';
import { normalizeEvent, type NormalizeOptions } from '../events/normalize.js';
import type { TraceBuilder } from '../model/trace-builder.js';
import type { ApplyResult, BridgeEvent, LogRecordOut, SpanRecord } from '../model/types.js';
import { capFields, exceedsDepth, MAX_EVENT_BYTES } from './event-limits.js';
import type { Journal } from './journal.js';
import type { AgentMetrics } from './metrics.js';
import type { Quarantine, QuarantineStage } from './quarantine.js';

/**
 * The handling histogram by transport: an http event's handling is what its hook waits for; a
 * spooled event's (command hooks, the durable transport) is drained in the background, after the
 * hook has exited. One attribute object per transport, made once.
 */
const HANDLING_ATTRS: Record<NonNullable<BridgeEvent['via']> | 'unknown', { transport: string }> = {
  http: { transport: 'http' }, spool: { transport: 'spool' }, command: { transport: 'command' }, unknown: { transport: 'unknown' },
};

export interface IngestSink {
  emitSpan(record: SpanRecord, seq: number): void;
  emitLog(record: LogRecordOut): void;
}

export interface IngestOptions {
  journal: Journal;
  builder: TraceBuilder;
  sink: IngestSink;
  metrics: AgentMetrics;
  quarantine: Quarantine;
  normalize: NormalizeOptions;
  log: (message: string) => void;
  maxEventBytes?: number;
  /** Sees each live event after it passed validation and before the builder applies it (model calls). */
  beforeApply?: (event: BridgeEvent) => void;
  /** Rewrites each span the builder emits on its way to the sink (model-call roll-ups). */
  decorate?: (span: SpanRecord) => SpanRecord;
}

/** `unavailable`: the journal cannot take events now (disk full); nothing was applied. */
export type IngestResult = { ok: true; event: BridgeEvent } | { ok: false; reason: string };

export const CLOSE_EVENT = '@SessionClose';

class Poison extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
  }
}

const message = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

export function createIngestor(options: IngestOptions) {
  const { journal, builder, sink, metrics, quarantine } = options;
  const maxBytes = options.maxEventBytes ?? MAX_EVENT_BYTES;
  let seq = 0;

  /** The one place the trace builder is called: its outputs go to the SDK, its gaps to the metric. */
  const applyToBuilder = (ev: BridgeEvent, minSeq: number) => {
    const { outputs, gaps }: ApplyResult = ev.name === CLOSE_EVENT
      ? builder.closeSession(ev.sessionId, ev.reason ?? 'closed', ev.timeMs, ev.seq)
      : builder.apply(ev);
    for (const o of outputs) {
      if (o.seq <= minSeq) continue;
      if (o.type === 'span') sink.emitSpan(options.decorate ? options.decorate(o.span) : o.span, o.seq);
      else sink.emitLog(o.log);
    }
    if (gaps > 0 && minSeq === -Infinity) metrics.gaps.add(gaps); // replayed gaps were counted by the run that saw them
  };

  const decode = (body: string): { value: unknown; droppedFields: number } => {
    if (body.length > maxBytes) throw new Poison('too_large', `${body.length} characters, over the ${maxBytes} cap`);
    if (exceedsDepth(body)) throw new Poison('too_deep', 'nested deeper than the limit');
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (err) {
      throw new Poison('malformed_json', message(err));
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { value, droppedFields: 0 };
    const capped = capFields(value as Record<string, unknown>);
    return { value: capped.value, droppedFields: capped.dropped };
  };

  return {
    /** Rebuilds state from the journal; re-emits only what closed after the export watermark.
     *  `failed` holds the seqs of lines that could not be applied (for compaction to drop). */
    replay(watermark: number): { events: number; corrupt: number; failed: Set<number> } {
      let events = 0;
      let corrupt = 0;
      const failed = new Set<number>();
      const { tooLong } = journal.replay((line) => {
        let ev: BridgeEvent;
        try {
          if (exceedsDepth(line)) throw new Error('nested deeper than the limit');
          ev = JSON.parse(line) as BridgeEvent;
          if (typeof ev !== 'object' || ev === null || typeof ev.seq !== 'number' || typeof ev.sessionId !== 'string' || typeof ev.name !== 'string') {
            throw new Error('not a journal record');
          }
        } catch (err) {
          corrupt++;
          quarantine.keep({ stage: 'replay', reason: 'unreadable_line', error: message(err), body: line });
          return;
        }
        if (ev.seq > seq) seq = ev.seq;
        try {
          applyToBuilder(ev, watermark);
          events++;
        } catch (err) {
          failed.add(ev.seq);
          metrics.rejected.add(1, { reason: 'apply_failed' });
          quarantine.keep({ stage: 'replay', reason: 'apply_failed', error: message(err), body: line });
        }
      });
      if (tooLong) quarantine.keep({ stage: 'replay', reason: 'line_too_long', error: `${tooLong} journal lines over the line cap were skipped` });
      seq = Math.max(seq, watermark, journal.recoveredSeq());
      return { events, corrupt: corrupt + tooLong, failed };
    },

    /**
     * One event from http, a command hook or the spool. `source.file` names where a spooled input
     * is kept (the drainer moves it there) instead of copying it into the quarantine.
     */
    ingest(body: string, receipt: { timeMs: number; via: BridgeEvent['via']; pid?: number | undefined; traceparent?: string | undefined }, source: { file?: string } = {}): IngestResult {
      const started = performance.now();
      if (!journal.accepting()) {
        journal.flush(); // the disk may have room again
        if (!journal.accepting()) return { ok: false, reason: 'unavailable' };
      }
      if (body.trim() === '') {
        metrics.rejected.add(1, { reason: 'empty' });
        return { ok: false, reason: 'empty' };
      }
      const stage: QuarantineStage = receipt.via === 'spool' ? 'spool' : 'ingest';
      let event: BridgeEvent;
      let known = false;
      try {
        const { value, droppedFields } = decode(body);
        const parsed = parseHookEvent(value);
        if (!parsed.ok) throw new Poison('invalid_event', parsed.reason);
        known = parsed.known;
        try {
          event = normalizeEvent(parsed, { seq: seq + 1, timeMs: receipt.timeMs, via: receipt.via, pid: receipt.pid, traceparent: receipt.traceparent }, options.normalize);
        } catch (err) {
          throw new Poison('normalize_failed', message(err));
        }
        if (droppedFields) {
          event.details = { 'claude_code.fields_dropped': droppedFields, ...event.details };
          metrics.fieldsDropped.add(droppedFields);
        }
        seq = event.seq; // never reused, even when apply fails below
        try {
          options.beforeApply?.(event);
          applyToBuilder(event, -Infinity);
        } catch (err) {
          throw new Poison('apply_failed', message(err));
        }
      } catch (err) {
        const reason = err instanceof Poison ? err.reason : 'internal';
        metrics.rejected.add(1, { reason });
        if (reason !== 'invalid_event') options.log(`quarantined a ${stage} event (${reason}): ${message(err).slice(0, 200)}`);
        quarantine.keep({
          stage, reason, error: message(err),
          ...(source.file ? { file: source.file } : { body: reason === 'too_large' ? body.slice(0, 64 * 1024) : body }),
        });
        return { ok: false, reason };
      }
      journal.append(event); // flushed before the answer (see journal.flushSoon): a crash after it loses nothing
      const transport = receipt.via ?? 'unknown';
      metrics.countEvent(known ? event.name : 'other', transport);
      metrics.handling.record(performance.now() - started, HANDLING_ATTRS[transport]);
      return { ok: true, event };
    },

    /** After an unclean stop: marks the outage on the open sessions and counts it. */
    markOutage(timeMs: number): number {
      const marked = builder.markOutage(timeMs);
      if (marked) metrics.gaps.add(marked);
      return marked;
    },

    closeSession(sessionId: string, reason: string, timeMs: number) {
      const event: BridgeEvent = { seq: seq + 1, timeMs, name: CLOSE_EVENT, known: false, sessionId, reason };
      seq = event.seq;
      applyToBuilder(event, -Infinity);
      journal.append(event);
      journal.flush(); // false on a full disk: kept in the buffer and retried by the journal
    },

    lastSeq: () => seq,
  };
}

export type Ingestor = ReturnType<typeof createIngestor>;
