/**
 * The page's data: the session list and spans fetched from the API, then kept current by one
 * EventSource on /api/live (feed positions as event ids: store cursors for the local source, Redis
 * stream entry ids for the team source; the browser's own reconnect sends Last-Event-ID and the
 * server resumes from there). Spans are deduplicated by (traceId, spanId),
 * the last line winning, as the store's format asks. A tiny observable: views subscribe and re-render.
 */
import type { StoredSpan } from '../../store/stored-span.js';
import type { LiveSession, LiveSpan, LiveState } from '../agent-live.js';
import { compareRows, mergeLive, type SessionRow } from '../source.js';

export interface TailEvent {
  seq: number;
  atMs: number;
  kind: 'span' | 'live' | 'hello';
  sessionId?: string;
  text: string;
  span?: StoredSpan;
}

export interface FeedState {
  rows: SessionRow[];
  live: LiveState;
  /** sessionId → spanKey → span */
  spans: Map<string, Map<string, StoredSpan>>;
  /**
   * Spans the agent closed that have not reached the store yet (its export batches them): kept,
   * ended at the moment they left the live state, so rows do not blink out in between.
   */
  closing: Map<string, Map<string, LiveSpan & { endMs: number }>>;
  tail: TailEvent[];
  connected: boolean;
  jaegerUrl: string | null;
  /** Which data the server reads: 'local' (store + agent) or 'team' (PostgreSQL + Redis). */
  source: 'local' | 'team';
  /** Bumped on every change, so views can memoize on it. */
  version: number;
}

/** What the feed saw, raw, for the browser tests (window.__uiFeed). */
export interface FeedLog {
  spanEvents: string[];
  /** Team source: the Redis stream entry ids received, in order. */
  entryIds: string[];
  /** The position the feed was first opened with (`?since=`). */
  since: string;
  hellos: Array<{ resumed: boolean; lost?: boolean }>;
}

const TAIL_MAX = 500;
const spanKey = (s: StoredSpan) => `${s.traceId}/${s.spanId}`;

export function createFeed() {
  const state: FeedState = { rows: [], live: { agent: { running: false }, sessions: [] }, spans: new Map(), closing: new Map(), tail: [], connected: false, jaegerUrl: null, source: 'local', version: 0 };
  const log: FeedLog = { spanEvents: [], entryIds: [], since: '', hellos: [] };
  const listeners = new Set<() => void>();
  let seq = 0;
  const changed = () => {
    state.version++;
    for (const l of listeners) l();
  };
  const pushTail = (e: Omit<TailEvent, 'seq' | 'atMs'>) => {
    state.tail.push({ ...e, seq: ++seq, atMs: Date.now() });
    if (state.tail.length > TAIL_MAX) state.tail.splice(0, state.tail.length - TAIL_MAX);
  };
  const spansOf = (sessionId: string) => {
    let m = state.spans.get(sessionId);
    if (!m) state.spans.set(sessionId, (m = new Map()));
    return m;
  };
  const markRunning = () => {
    // team: running comes with each row (no agent to ask)
    if (state.source !== 'team') mergeLive(state.rows, state.live.sessions);
    else state.rows.sort(compareRows);
  };

  async function reloadList() {
    const list = (await (await fetch('/api/sessions')).json()) as { sessions: SessionRow[] };
    state.rows = list.sessions;
    markRunning();
    changed();
  }

  function connect(since: string) {
    log.since = since;
    const es = new EventSource(`/api/live?since=${encodeURIComponent(since)}`);
    es.addEventListener('open', () => {
      state.connected = true;
      changed();
    });
    es.addEventListener('error', () => {
      state.connected = false;
      changed();
    });
    es.addEventListener('hello', (e) => {
      const data = JSON.parse((e as MessageEvent<string>).data) as { resumed: boolean; lost?: boolean };
      log.hellos.push(data.lost === undefined ? { resumed: data.resumed } : { resumed: data.resumed, lost: data.lost });
      pushTail({ kind: 'hello', text: data.lost ? 'reconnected: the stream was trimmed past the last event seen; reloading the list' : data.resumed ? 'reconnected: resuming from the last event seen' : 'connected' });
      if (data.lost) void reloadList();
      changed();
    });
    es.addEventListener('spans', (e) => {
      const data = JSON.parse((e as MessageEvent<string>).data) as { sessionId?: string; summary: SessionRow | null; spans: StoredSpan[]; entryIds?: string[] };
      if (data.entryIds) log.entryIds.push(...data.entryIds);
      const sessionId = data.summary?.sessionId ?? data.sessionId;
      if (!sessionId) return;
      const m = spansOf(sessionId);
      for (const s of data.spans) {
        log.spanEvents.push(spanKey(s));
        m.delete(spanKey(s));
        m.set(spanKey(s), s);
        state.closing.get(sessionId)?.delete(s.spanId);
        pushTail({ kind: 'span', sessionId, text: s.name, span: s });
      }
      if (data.summary) {
        const i = state.rows.findIndex((r) => r.sessionId === sessionId);
        const row: SessionRow = { ...data.summary, running: data.summary.running ?? false, openSpans: data.summary.openSpans ?? 0 };
        if (i >= 0) state.rows[i] = row;
        else state.rows.push(row);
        markRunning();
      }
      changed();
    });
    es.addEventListener('live', (e) => {
      const data = JSON.parse((e as MessageEvent<string>).data) as LiveState;
      const before = new Set(state.live.sessions.flatMap((s) => s.spans.map((x) => x.spanId)));
      for (const s of data.sessions) for (const x of s.spans) if (!before.has(x.spanId)) pushTail({ kind: 'live', sessionId: s.sessionId, text: `${x.name} started` });
      const now = Date.now();
      for (const old of state.live.sessions) {
        const still = new Set(data.sessions.find((x) => x.sessionId === old.sessionId)?.spans.map((x) => x.spanId) ?? []);
        const stored = state.spans.get(old.sessionId);
        for (const x of old.spans) {
          if (still.has(x.spanId) || stored?.has(`${old.traceId}/${x.spanId}`)) continue;
          let c = state.closing.get(old.sessionId);
          if (!c) state.closing.set(old.sessionId, (c = new Map()));
          c.set(x.spanId, { ...x, endMs: now });
        }
      }
      state.live = data;
      markRunning();
      changed();
    });
  }

  return {
    state,
    log,
    subscribe(listener: () => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async start() {
      const config = (await (await fetch('/api/config')).json()) as { jaegerUrl: string | null; source?: 'local' | 'team' };
      state.jaegerUrl = config.jaegerUrl;
      state.source = config.source ?? 'local';
      const list = (await (await fetch('/api/sessions')).json()) as { sessions: SessionRow[]; cursor: string };
      state.rows = list.sessions;
      changed();
      connect(list.cursor);
    },
    /** Loads one session's stored spans; spans already seen live are kept (they are as new or newer). */
    async loadSession(id: string): Promise<SessionRow | undefined> {
      const res = await fetch(`/api/sessions/${encodeURIComponent(id)}`);
      if (!res.ok) return undefined;
      const body = (await res.json()) as { session: SessionRow; spans: StoredSpan[] };
      const m = spansOf(body.session.sessionId);
      for (const s of body.spans) if (!m.has(spanKey(s))) m.set(spanKey(s), s);
      changed();
      return body.session;
    },
    liveOf(sessionId: string): LiveSession | undefined {
      return state.live.sessions.find((s) => s.sessionId === sessionId);
    },
    /** Open spans, then closed ones not stored yet (with their end). */
    unstoredOf(sessionId: string): Array<LiveSpan & { endMs?: number }> {
      const open = state.live.sessions.find((s) => s.sessionId === sessionId)?.spans ?? [];
      const ids = new Set(open.map((x) => x.spanId));
      return [...open, ...[...(state.closing.get(sessionId)?.values() ?? [])].filter((x) => !ids.has(x.spanId))];
    },
    async search(q: string): Promise<Set<string>> {
      const list = (await (await fetch(`/api/sessions?q=${encodeURIComponent(q)}`)).json()) as { sessions: SessionRow[] };
      return new Set(list.sessions.map((s) => s.sessionId));
    },
  };
}

export type Feed = ReturnType<typeof createFeed>;
