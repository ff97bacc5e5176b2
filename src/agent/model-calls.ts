/**
 * The agent's model-call component (create → start → shutdown). At the hook events that follow a
 * model response it reads the session's transcript (or the subagent's) from where it stopped,
 * turns new responses into `chat` spans and emits them through the same sink as the builder's
 * spans, before the event itself reaches the trace builder, so a turn closed by Stop already has
 * every call in the ledger. Its seam with the rest of the agent is small: `observe(event)` before
 * the builder, `decorate(span)` on every span the builder emits (roll-ups on turn, subagent and
 * root; the response id on tool spans), `usageFor` / `responseIdForToolUse` for other callers.
 *
 * Replay safety: reader offsets, half-read responses, the ledger and the tool links are saved in
 * `<home>/model-calls.json` (atomically, at most once a second), and only once every chat span
 * emitted so far is confirmed exported (the export watermark passed its seq). After a crash the
 * transcript is read again from the last saved point: spans emitted after it are emitted again
 * with the same derived ids (idempotent in backends), none is lost.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Meter } from '@opentelemetry/api';
import type { AssemblerState } from '../model-calls/assembler.js';
import { createUsageLedger, type SessionLedger, type Usage } from '../model-calls/ledger.js';
import { createPricer, type ModelPrice } from '../model-calls/prices.js';
import { createModelCallProcessor, type ProcessedCall } from '../model-calls/processor.js';
import { ENTRY_TYPES } from '../model-calls/records.js';
import { usageAttributes } from '../model-calls/spans.js';
import { spanIdFor, spanKeys } from '../model/ids.js';
import type { BridgeEvent, SpanRecord } from '../model/types.js';
import { checkTranscriptFile, defaultTranscriptRoots, mainTranscriptName, subagentTranscriptPath } from '../transcript/paths.js';
import { createTranscriptReader, type ReaderPosition } from '../transcript/reader.js';
import { writeFileAtomic } from '../shared/home.js';
import { createModelCallMetrics } from './model-call-metrics.js';
import { homePaths } from './paths.js';

export interface ModelCallsOptions {
  home: string;
  enabled: boolean;
  transcriptRoots: readonly string[];
  prices: Readonly<Record<string, ModelPrice>>;
  /** Present only when capture.modelMessages is on. */
  capture?: (value: unknown) => string;
  sink: { emitSpan(record: SpanRecord, seq: number): void };
  /** Tokens, duration, cost (pushed over OTLP when an endpoint is configured). */
  meter: Meter;
  /** The transcript reader's own counters (claude_otel.*; default: `meter`). */
  healthMeter?: Meter;
  /** The export watermark: every span tracked with a seq at or below it was exported. */
  watermark: () => number;
  log: (message: string) => void;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  /** Bytes of one transcript read per event (default 4 MB); the rest is read by the timer. */
  maxBytesPerRead?: number;
}

export interface ModelCalls {
  readonly name: string;
  start(): void;
  /** Called for every accepted live event, before the trace builder applies it. */
  observe(event: BridgeEvent): void;
  /** Adds roll-ups (turn, subagent, root) and the response id (tool) to a span the builder emits. */
  decorate(span: SpanRecord): SpanRecord;
  usageFor(spanId: string): Usage | undefined;
  responseIdForToolUse(toolUseId: string): string | undefined;
  shutdown(): void;
}

interface SessionInfo {
  mainPath?: string;
  /** transcript_paths refused for good (their shape, a link, another owner): every event carries one; each is checked
   *  and counted once per session (a few at most: a forger could vary it, so the set is capped). */
  refusedPaths?: Set<string>;
  agents: Map<string, string>; // agentId -> agent type
  project: string;
  lastEventMs: number;
  endedMs?: number;
}

interface SavedState {
  version: 1;
  positions: Record<string, ReaderPosition>;
  assemblers: Record<string, AssemblerState>;
  ledger: SessionLedger[];
  links: [string, string][];
}

/** Events after which a model response may have been written (and the ones that end something). */
const READ_ON = new Set(['UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'PostToolUseFailure', 'PostToolBatch', 'Stop', 'StopFailure', 'SubagentStop', 'PreCompact', 'PostCompact', 'SessionEnd']);
const ROLLED_UP = new Set(['turn', 'subagent', 'session']);
const BATCH = 256;
const MAX_REFUSED_PATHS = 8;
const SAVED_LINKS = 5_000;
const KEEP_ENDED_MS = 3_600_000;
const KEEP_IDLE_MS = 24 * 3_600_000;

export function createModelCalls(options: ModelCallsOptions): ModelCalls {
  const now = options.now ?? Date.now;
  const roots = [...defaultTranscriptRoots(options.env), ...options.transcriptRoots];
  const stateFile = homePaths(options.home).modelCalls;
  // A backlog (an agent started late on a long session) is read 4 MB per event or tick, so no
  // hook waits long on it; the timer below catches up on the rest.
  const reader = createTranscriptReader({ maxBytesPerRead: options.maxBytesPerRead ?? 4 * 1024 * 1024, decodeTypes: ENTRY_TYPES });
  const behind = new Map<string, { sessionId: string; agentId: string | undefined; seq: number }>();
  const ledger = createUsageLedger();
  const processor = createModelCallProcessor({ ledger, pricer: createPricer(options.prices), now, ...(options.capture ? { capture: options.capture } : {}) });
  const metrics = createModelCallMetrics(options.meter, { reader: reader.counters, processor: processor.counters, maxOpenSessionCost: () => maxOpenCost() }, options.healthMeter);
  const sessions = new Map<string, SessionInfo>();
  const checked = new Set<string>();
  const refusedLogged = new Set<string>();
  let lastEmitSeq = -Infinity;
  let dirty = false;
  let timer: NodeJS.Timeout | undefined;

  const maxOpenCost = () => {
    let max = 0;
    for (const [id, s] of sessions) if (s.endedMs === undefined) max = Math.max(max, ledger.sessionCost(id) ?? 0);
    return max;
  };

  const refuse = (reason: string, path: string) => {
    metrics.refused(reason);
    if (!refusedLogged.has(reason)) {
      refusedLogged.add(reason);
      options.log(`model calls: not reading transcript ${JSON.stringify(path.slice(0, 200))} (${reason}); further refusals for this reason are only counted`);
    }
  };

  const emit = (done: ProcessedCall[], seq: number, s: SessionInfo) => {
    for (const { call, span, costUsd } of done) {
      options.sink.emitSpan(span, seq);
      lastEmitSeq = Math.max(lastEmitSeq, seq);
      metrics.call(call, costUsd, { agentType: call.agentId ? (s.agents.get(call.agentId) ?? 'subagent') : 'main', project: s.project });
    }
    if (done.length) dirty = true;
  };

  /** Reads what is new in one transcript (key = its path) and emits the calls completed by it. */
  const readTranscript = (path: string, sessionId: string, agentId: string | undefined, s: SessionInfo, seq: number) => {
    if (!checked.has(path)) {
      const verdict = checkTranscriptFile(path, roots);
      if (!verdict.ok) {
        if (verdict.reason !== 'missing') refuse(verdict.reason, path);
        return;
      }
      checked.add(path);
    }
    let batch: Record<string, unknown>[] = [];
    const before = reader.position(path)?.offset;
    try {
      const { more } = reader.read(path, (record) => {
        batch.push(record);
        if (batch.length >= BATCH) {
          emit(processor.records(path, sessionId, agentId, batch), seq, s);
          batch = [];
        }
      });
      if (more) behind.set(path, { sessionId, agentId, seq });
      else behind.delete(path);
    } catch (err) {
      checked.delete(path); // replaced by something else (a symlink: O_NOFOLLOW refused it), or gone
      options.log(`model calls: reading ${path} failed: ${(err as Error).message}`);
    }
    if (batch.length) emit(processor.records(path, sessionId, agentId, batch), seq, s);
    if (reader.position(path)?.offset !== before) dirty = true;
  };

  function observe(ev: BridgeEvent) {
    if (!options.enabled) return;
    let s = sessions.get(ev.sessionId);
    if (!s) {
      s = { agents: new Map(), project: ev.cwd ? basename(ev.cwd) : 'unknown', lastEventMs: now() };
      sessions.set(ev.sessionId, s);
    }
    s.lastEventMs = now();
    if (ev.cwd && s.project === 'unknown') s.project = basename(ev.cwd);
    if (ev.agentId && ev.agentType !== undefined) s.agents.set(ev.agentId, ev.agentType || 'compaction');
    else if (ev.agentId && !s.agents.has(ev.agentId)) s.agents.set(ev.agentId, 'subagent');
    if (ev.transcriptPath && ev.transcriptPath !== s.mainPath && !s.refusedPaths?.has(ev.transcriptPath)) {
      const named = mainTranscriptName(ev.transcriptPath, ev.sessionId, roots);
      if (named.ok) s.mainPath = named.path;
      else {
        refuse(named.reason, ev.transcriptPath);
        if (named.reason !== 'missing') {
          // not yet written ('missing'): asked again next event
          s.refusedPaths ??= new Set();
          if (s.refusedPaths.size < MAX_REFUSED_PATHS) s.refusedPaths.add(ev.transcriptPath);
        }
      }
    }
    if (ev.name === 'StopFailure' && ev.known) metrics.error(ev.error, { agentType: ev.agentId ? (s.agents.get(ev.agentId) ?? 'subagent') : 'main', project: s.project });
    if (!READ_ON.has(ev.name) || !s.mainPath) return;
    const main = s.mainPath;
    const sub = (agentId: string) => {
      const derived = subagentTranscriptPath(main, ev.sessionId, agentId);
      return derived.ok ? derived.path : undefined;
    };
    if (ev.name === 'SubagentStop' && ev.agentId && ev.agentTranscriptPath && ev.agentTranscriptPath !== sub(ev.agentId)) {
      refuse('wrong_name', ev.agentTranscriptPath); // we read the derived path, never the payload's
    }
    // A half-read backlog is never flushed: a response cut at the read boundary would be emitted twice.
    const readAndFlush = (path: string, agentId: string | undefined) => {
      readTranscript(path, ev.sessionId, agentId, s, ev.seq);
      if (!behind.has(path)) emit(processor.flush(path), ev.seq, s);
    };
    if (ev.name === 'SessionEnd') {
      // the last read of each transcript of the session: its file is closed after it
      const readFlushRelease = (path: string, agentId: string | undefined) => {
        readAndFlush(path, agentId);
        reader.release(path);
      };
      readFlushRelease(main, undefined);
      for (const agentId of s.agents.keys()) {
        const path = sub(agentId);
        if (path) readFlushRelease(path, agentId);
      }
      s.endedMs = now();
      return;
    }
    // A tool's end needs its response id (decorate) and nothing else: when the read at its
    // PreToolUse already linked it, whatever was written since waits for the next event's read.
    if ((ev.name === 'PostToolUse' || ev.name === 'PostToolUseFailure') && ev.known && processor.responseIdForToolUse(ev.toolUseId)) return;
    const path = ev.agentId ? sub(ev.agentId) : main;
    if (!path) return;
    const ends = ev.name === 'Stop' || ev.name === 'StopFailure' || ev.name === 'SubagentStop' || ev.name === 'PostCompact';
    if (ends) readAndFlush(path, ev.agentId);
    else readTranscript(path, ev.sessionId, ev.agentId, s, ev.seq);
  }

  function decorate(span: SpanRecord): SpanRecord {
    const kind = span.attributes['claude_code.span.kind'];
    if (typeof kind !== 'string') return span;
    if (ROLLED_UP.has(kind) || kind === 'segment') {
      // The root closes at the first SessionEnd; a resumed segment carries the session's
      // cumulative totals at its own close (so the last one closed holds the final figures).
      const sessionId = span.attributes['session.id'];
      const key = kind === 'segment' && typeof sessionId === 'string' ? spanIdFor(sessionId, spanKeys.root()) : span.spanId;
      const attrs = usageAttributes(ledger.usageFor(key));
      return Object.keys(attrs).length ? { ...span, attributes: { ...span.attributes, ...attrs } } : span;
    }
    if (kind === 'tool') {
      const id = span.attributes['gen_ai.tool.call.id'];
      const responseId = typeof id === 'string' ? processor.responseIdForToolUse(id) : undefined;
      return responseId ? { ...span, attributes: { ...span.attributes, 'gen_ai.response.id': responseId } } : span;
    }
    return span;
  }

  function save() {
    // Only a state whose spans all left the machine: otherwise a crash would skip them for good.
    if (!dirty || options.watermark() < lastEmitSeq) return;
    const saved: SavedState = {
      version: 1,
      positions: reader.positions(),
      assemblers: processor.states(),
      ledger: ledger.snapshot(),
      links: processor.links().slice(-SAVED_LINKS),
    };
    try {
      writeFileAtomic(stateFile, JSON.stringify(saved));
      dirty = false;
    } catch (err) {
      options.log(`model calls: could not save ${stateFile}: ${(err as Error).message}`);
    }
  }

  function evict() {
    const t = now();
    for (const [id, s] of sessions) {
      if ((s.endedMs !== undefined && t - s.endedMs > KEEP_ENDED_MS) || t - s.lastEventMs > KEEP_IDLE_MS) {
        sessions.delete(id);
        const paths = s.mainPath ? [s.mainPath, ...[...s.agents.keys()].map((a) => subagentTranscriptPath(s.mainPath!, id, a)).flatMap((v) => (v.ok ? [v.path] : []))] : [];
        for (const p of paths) {
          reader.forget(p);
          processor.forget(p);
          checked.delete(p);
        }
        dirty = true;
      }
    }
    ledger.evict(t - KEEP_IDLE_MS);
  }

  return {
    name: 'model-calls',
    start() {
      if (!options.enabled) return;
      try {
        const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as SavedState;
        if (saved.version === 1) {
          reader.restore(saved.positions ?? {});
          processor.restore(saved.assemblers ?? {}, saved.links ?? []);
          ledger.restore(saved.ledger ?? []);
        }
      } catch {
        /* first start, or an unreadable file: transcripts are read from their start */
      }
      timer = setInterval(() => {
        for (const [path, b] of [...behind]) {
          const s = sessions.get(b.sessionId);
          if (!s) behind.delete(path);
          else {
            readTranscript(path, b.sessionId, b.agentId, s, b.seq);
            if (!behind.has(path) && s.endedMs !== undefined) emit(processor.flush(path), b.seq, s);
          }
        }
        evict();
        save();
      }, 1000);
      timer.unref();
    },
    observe(ev) {
      try {
        observe(ev);
      } catch (err) {
        options.log(`model calls: ${ev.name} not processed: ${(err as Error).message}`); // never fails the event
      }
    },
    decorate,
    usageFor: (spanId) => ledger.usageFor(spanId),
    responseIdForToolUse: (id) => processor.responseIdForToolUse(id),
    shutdown() {
      if (timer) clearInterval(timer);
      timer = undefined;
      save();
      reader.close();
    },
  };
}
