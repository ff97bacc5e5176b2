/**
 * The web view's *local* source: the agent's store (session files read as a feed whose position is
 * a byte offset per file: src/ui/store-feed.ts) plus the agent's live state (open spans, from its
 * /v1/status: src/ui/agent-live.ts), polled every `pollMs`.
 */
import type { LiveSource, LiveState } from './agent-live.js';
import { mergeLive, type FeedHandle, type FeedStart, type FeedWrite, type SessionRow, type UiSource } from './source.js';
import { cursorNow, decodeCursor, encodeCursor, readChanges, readSnapshot, type StoreSnapshot } from './store-feed.js';

export interface LocalSourceOptions {
  storeDir: string;
  live: LiveSource;
  /** How often the feed looks at the store and the agent (default 200 ms). */
  pollMs?: number;
}

/** Pure: store rows and live sessions as one list, running sessions first, then newest start. */
export function sessionRows(snapshot: Pick<StoreSnapshot, 'sessions'>, live: LiveState): SessionRow[] {
  return mergeLive(snapshot.sessions.map((s) => ({ ...s, running: false, openSpans: 0 })), live.sessions);
}

/** Pure: does the session match a search (session id, prompt id or tool_use_id, substring)? */
export function matchesQuery(row: SessionRow, spans: readonly { attributes: Record<string, unknown> }[], query: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  if (row.sessionId.toLowerCase().includes(q) || (row.traceId ?? '').includes(q)) return true;
  return spans.some((s) =>
    ['claude_code.prompt.id', 'gen_ai.tool.call.id'].some((k) => {
      const v = s.attributes[k];
      return typeof v === 'string' && v.toLowerCase().includes(q);
    }),
  );
}

export function createLocalSource(options: LocalSourceOptions): UiSource {
  const pollMs = options.pollMs ?? 200;
  const read = () => Promise.all([readSnapshot(options.storeDir), options.live()]);
  return {
    name: 'local',
    async listSessions(query) {
      const [snapshot, live] = await read();
      const spansOf = (row: SessionRow) => [...(snapshot.spans.get(row.fileKey ?? '') ?? []), ...(live.sessions.find((s) => s.sessionId === row.sessionId)?.spans ?? [])];
      const rows = sessionRows(snapshot, live).filter((r) => matchesQuery(r, spansOf(r), query));
      return { sessions: rows, agent: live.agent, cursor: encodeCursor(snapshot.cursor) };
    },
    async getSession(id) {
      const [snapshot, live] = await read();
      const rows = sessionRows(snapshot, live);
      const prefixed = rows.filter((r) => r.sessionId.startsWith(id));
      const row = rows.find((r) => r.sessionId === id) ?? (prefixed.length === 1 ? prefixed[0] : undefined);
      if (!row) return undefined;
      return {
        session: row,
        spans: snapshot.spans.get(row.fileKey ?? '') ?? [],
        live: live.sessions.find((s) => s.sessionId === row.sessionId) ?? null,
        cursor: encodeCursor(snapshot.cursor),
      };
    },
    async openFeed(from: FeedStart, write: FeedWrite): Promise<FeedHandle> {
      const resumeFrom = decodeCursor(from.lastEventId) ?? decodeCursor(from.since);
      const cursor = resumeFrom ?? (await cursorNow(options.storeDir));
      let closed = false;
      const send = (event: string, data: unknown) => !closed && write(encodeCursor(cursor), event, data);
      send('hello', { resumed: from.lastEventId !== undefined, at: Date.now() });
      let lastLive = '';
      let busy = false;
      const tick = async () => {
        if (busy || closed) return;
        busy = true;
        try {
          for (const change of await readChanges(options.storeDir, cursor)) {
            send('spans', { fileKey: change.fileKey, sessionId: change.summary?.sessionId, summary: change.summary ?? null, spans: change.spans });
          }
          const live = await options.live();
          const text = JSON.stringify(live);
          if (text !== lastLive) {
            lastLive = text;
            send('live', { ...live, at: Date.now() });
          }
        } catch {
          /* the next tick tries again */
        } finally {
          busy = false;
        }
      };
      const timer = setInterval(() => void tick(), pollMs);
      void tick();
      return {
        stop() {
          closed = true;
          clearInterval(timer);
        },
      };
    },
    async close() {},
  };
}
