/**
 * The web view's *team* source: history from the sink's PostgreSQL (team-history.ts), live entries
 * from its Redis global span stream (team-feed.ts). Event ids are stream entry ids.
 *
 * The seam between the two: the list is read from PostgreSQL after the feed position was taken,
 * and that position is set `overlapMs` before the newest entry, because the sink writes both
 * stores in parallel, so an entry can be in Redis a moment before its row is committed. The page
 * keeps one copy per (traceId, spanId), so the overlap repeats nothing on the page.
 */
import { summarizeSession } from '../store/session-summary.js';
import type { StoredSpan } from '../store/stored-span.js';
import type { FeedStart, FeedWrite, SessionRow, UiSource } from './source.js';
import { compareEntryIds, parseEntryId, type StreamEntry, type TeamFeed } from './team-feed.js';
import type { TeamHistory } from './team-history.js';
import { spanFromEntry } from './team-span.js';

export interface TeamSourceOptions {
  history: TeamHistory;
  feed: TeamFeed;
  /** Default 5 s. */
  overlapMs?: number;
  /** An open session with a span newer than this is running (default 10 min). */
  runningWindowMs?: number;
  now?: () => number;
}

export interface EntryGroup {
  /** The last entry's id: where the feed stands once this group is delivered. */
  id: string;
  sessionId: string | null;
  entryIds: string[];
  spans: StoredSpan[];
}

/** Pure: consecutive span entries of one session as one event (entries that are not spans are skipped). */
export function groupEntries(entries: readonly StreamEntry[]): EntryGroup[] {
  const groups: EntryGroup[] = [];
  for (const e of entries) {
    const span = spanFromEntry(e.fields);
    if (!span) continue;
    const sessionId = e.fields.session_id ?? null;
    const last = groups[groups.length - 1];
    if (last && last.sessionId === sessionId) {
      last.id = e.id;
      last.entryIds.push(e.id);
      last.spans.push(span);
    } else groups.push({ id: e.id, sessionId, entryIds: [e.id], spans: [span] });
  }
  return groups;
}

/** Pure: `overlapMs` before an entry id ('0-0' stays). */
export function backOff(id: string, overlapMs: number): string {
  const ms = BigInt(id.split('-')[0]!);
  if (ms === 0n) return '0-0';
  const back = ms - BigInt(overlapMs);
  return `${back > 0n ? back : 0n}-0`;
}

export function createTeamSource(options: TeamSourceOptions): UiSource {
  const { history, feed } = options;
  const overlapMs = options.overlapMs ?? 5_000;
  const windowMs = options.runningWindowMs ?? 10 * 60_000;
  const now = options.now ?? Date.now;
  const agent = { running: false };
  const cursor = async () => backOff(await feed.lastId(), overlapMs);

  /** The session's row after new entries: from its own stream (fresh), else from PostgreSQL. */
  async function summaryOf(sessionId: string): Promise<SessionRow | null> {
    const entries = await feed.sessionEntries(sessionId);
    const byKey = new Map<string, StoredSpan>();
    for (const e of entries) {
      const s = spanFromEntry(e.fields);
      if (s) byKey.set(`${s.traceId}/${s.spanId}`, s);
    }
    const summary = summarizeSession(sessionId, [...byKey.values()]);
    if (!summary) return (await history.sessionRow(sessionId)) ?? null;
    const last = Number(entries.at(-1)!.id.split('-')[0]); // XRANGE: oldest first
    return { ...summary, sessionId, running: summary.open && now() - last < windowMs, openSpans: 0 };
  }

  return {
    name: 'team',
    async listSessions(query) {
      const at = await cursor(); // before the history is read: see the header
      return { sessions: await history.listSessions(query), agent, cursor: at };
    },
    async getSession(id) {
      const at = await cursor();
      const found = await history.getSession(id);
      return found ? { ...found, live: null, cursor: at } : undefined;
    },
    async openFeed(from: FeedStart, write: FeedWrite) {
      const resume = parseEntryId(from.lastEventId);
      const start = resume ?? parseEntryId(from.since) ?? (await cursor());
      const lost = compareEntryIds(start, '0-0') > 0 && (await feed.lostAfter(start));
      write(start, 'hello', { resumed: resume !== undefined, lost, at: now() });
      return feed.follow(
        start,
        async (entries) => {
          // One summary per session and batch: groups of one session (interleaved with others) share it.
          const summaries = new Map<string, Promise<SessionRow | null>>();
          const summaryFor = (id: string) => {
            let found = summaries.get(id);
            if (!found) summaries.set(id, (found = summaryOf(id).catch(() => null)));
            return found;
          };
          for (const g of groupEntries(entries)) {
            const summary = g.sessionId ? await summaryFor(g.sessionId) : null;
            write(g.id, 'spans', { sessionId: g.sessionId, summary, spans: g.spans, entryIds: g.entryIds });
          }
        },
        () => {},
      );
    },
    async close() {
      await Promise.allSettled([history.close(), feed.close()]);
    },
  };
}
