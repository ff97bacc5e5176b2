/**
 * The one small interface the web view's server (src/ui/server.ts) serves from, whatever holds
 * the data: the local store and the agent (local-source.ts), or the sink's PostgreSQL history and
 * Redis Streams live feed (team-source.ts). The page does not know which: the routes, the event
 * names and the resume rule (an event's id is where the feed stands after it) are the same.
 */
import type { SessionSummary } from '../store/session-summary.js';
import type { StoredSpan } from '../store/stored-span.js';
import type { LiveSession, LiveState } from './agent-live.js';

export interface SessionRow extends Partial<SessionSummary> {
  sessionId: string;
  /** The agent has it open right now (team: no root span yet and recent activity). */
  running: boolean;
  openSpans: number;
}

/** The sessions list's order: running first, then the newest start, then by id (every source, and the page). */
export const compareRows = (a: SessionRow, b: SessionRow): number =>
  Number(b.running) - Number(a.running) || Date.parse(b.start ?? '') - Date.parse(a.start ?? '') || a.sessionId.localeCompare(b.sessionId);

/** The row of a session the agent has open and the store does not hold yet. */
function liveOnlyRow(s: LiveSession): SessionRow {
  const start = Math.min(s.lastEventMs, ...s.spans.map((x) => x.startMs));
  return { sessionId: s.sessionId, traceId: s.traceId, start: new Date(start).toISOString(), running: true, openSpans: s.spans.length, turns: 0, tools: 0, errors: 0, spans: 0, open: true };
}

/**
 * Marks the rows the agent has open (running, open spans), adds a row for each open session the
 * store does not hold yet, and sorts: the one merge of live state into a sessions list. In place.
 */
export function mergeLive(rows: SessionRow[], live: readonly LiveSession[]): SessionRow[] {
  const running = new Map(live.map((s) => [s.sessionId, s]));
  const listed = new Set<string>();
  for (const r of rows) {
    r.running = running.has(r.sessionId);
    r.openSpans = running.get(r.sessionId)?.spans.length ?? 0;
    listed.add(r.sessionId);
  }
  for (const s of live) if (!listed.has(s.sessionId)) rows.push(liveOnlyRow(s));
  return rows.sort(compareRows);
}

export interface SessionList {
  sessions: SessionRow[];
  agent: LiveState['agent'];
  /** Where the live feed starts so nothing falls between this list and the feed. */
  cursor: string;
}

export interface SessionDetail {
  session: SessionRow;
  spans: StoredSpan[];
  live: LiveSession | null;
  cursor: string;
}

/** Where the feed resumes: the browser's Last-Event-ID wins over the page's `?since=`. */
export interface FeedStart {
  lastEventId?: string | undefined;
  since?: string | undefined;
}

/** One Server-Sent Event. `id` is the feed position after it (what Last-Event-ID sends back). */
export type FeedWrite = (id: string, event: string, data: unknown) => void;

export interface FeedHandle {
  stop(): void;
}

export interface UiSource {
  readonly name: 'local' | 'team';
  listSessions(query: string): Promise<SessionList>;
  /** By id or unique prefix; undefined: no such session. */
  getSession(id: string): Promise<SessionDetail | undefined>;
  /** Starts writing events (first `hello`); runs until stop(). */
  openFeed(from: FeedStart, write: FeedWrite): Promise<FeedHandle>;
  close(): Promise<void>;
}
