/**
 * The team source's live feed: the sink's global span stream in Redis (src/sink/redis/keys.ts),
 * followed with `XREAD BLOCK` on a connection of its own per page (a blocked connection serves
 * nobody else). A position is a stream entry id (`ms-seq`); the page's Last-Event-ID is the id of
 * the last entry it got, so a reconnect (to this process or a new one) reads exactly the entries
 * after it. Entries trimmed away in between (MAXLEN) are detected with XINFO STREAM's
 * max-deleted-entry-id and reported, never silently skipped.
 */
import { createClient } from 'redis';
import { REDIS_KEY_PREFIX, globalSpansKey, sessionKey } from '../sink/redis/keys.js';

export interface StreamEntry {
  id: string;
  fields: Record<string, string>;
}

export interface TeamFeedOptions {
  url: string;
  keyPrefix?: string;
  /** Entries per XREAD (default 500). */
  count?: number;
  /** How long one XREAD blocks (default 5 s; the loop then blocks again). */
  blockMs?: number;
}

export interface Follower {
  stop(): void;
}

export interface TeamFeed {
  /** The newest entry's id, '0-0' for an empty or missing stream. */
  lastId(): Promise<string>;
  /** True when entries after `id` were trimmed from the stream (the feed cannot give them). */
  lostAfter(id: string): Promise<boolean>;
  /** Calls `onEntries` with every entry after `from`, in order, until stop(); a lost connection is reported to `onError` and read on from where it stood. */
  follow(from: string, onEntries: (entries: StreamEntry[]) => Promise<void> | void, onError: (err: Error) => void): Promise<Follower>;
  /** The session's own stream (the sink keeps one per session, capped and expiring). */
  sessionEntries(sessionId: string): Promise<StreamEntry[]>;
  close(): Promise<void>;
}

const ENTRY_ID = /^(\d{1,15})-(\d{1,15})$/;

/** Undefined for text that is not a stream entry id. */
export function parseEntryId(text: string | undefined | null): string | undefined {
  if (typeof text !== 'string') return undefined;
  const m = ENTRY_ID.exec(text.trim());
  return m ? `${BigInt(m[1]!)}-${BigInt(m[2]!)}` : undefined;
}

/** -1, 0, 1 as entry ids compare (numerically, ms then seq). */
export function compareEntryIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am < bm ? -1 : am > bm ? 1 : as < bs ? -1 : as > bs ? 1 : 0;
}

/** Pure: a RESP2 entry list (`[[id, [f, v, …]], …]`) as entries. */
export function parseEntries(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  const out: StreamEntry[] = [];
  for (const item of reply) {
    if (!Array.isArray(item) || typeof item[0] !== 'string' || !Array.isArray(item[1])) continue;
    const flat = item[1] as unknown[];
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[String(flat[i])] = String(flat[i + 1]);
    out.push({ id: item[0], fields });
  }
  return out;
}

export function createTeamFeed(options: TeamFeedOptions): TeamFeed {
  const prefix = options.keyPrefix ?? REDIS_KEY_PREFIX;
  const key = globalSpansKey(prefix);
  const count = String(options.count ?? 500);
  const block = String(options.blockMs ?? 5_000);
  const socket = { connectTimeout: 3_000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2_000) };
  const client = createClient({ url: options.url, disableOfflineQueue: true, socket });
  client.on('error', () => {}); // reconnects by itself; a command meanwhile fails and the caller says so
  let connecting: Promise<unknown> | undefined;
  const ready = async () => {
    if (!client.isOpen) await (connecting ??= client.connect().finally(() => (connecting = undefined)));
    return client;
  };
  const followers = new Set<ReturnType<typeof createClient>>();

  return {
    async lastId() {
      const last = parseEntries(await (await ready()).sendCommand(['XREVRANGE', key, '+', '-', 'COUNT', '1']));
      return last[0]?.id ?? '0-0';
    },
    async lostAfter(id) {
      let info: unknown;
      try {
        info = await (await ready()).sendCommand(['XINFO', 'STREAM', key]);
      } catch (err) {
        if (/no such key/i.test((err as Error).message)) return false;
        throw err;
      }
      const flat = Array.isArray(info) ? info : [];
      const at = flat.indexOf('max-deleted-entry-id');
      const deleted = at >= 0 ? parseEntryId(String(flat[at + 1])) : undefined;
      return deleted !== undefined && compareEntryIds(deleted, id) > 0;
    },
    async follow(from, onEntries, onError) {
      const reader = client.duplicate();
      reader.on('error', () => {});
      await reader.connect();
      followers.add(reader);
      let stopped = false;
      let position = from;
      void (async () => {
        while (!stopped) {
          try {
            const reply = await reader.sendCommand(['XREAD', 'COUNT', count, 'BLOCK', block, 'STREAMS', key, position]);
            if (stopped) break;
            const streams = Array.isArray(reply) ? (reply as unknown[]) : [];
            const entries = streams.flatMap((s) => (Array.isArray(s) ? parseEntries(s[1]) : []));
            if (entries.length === 0) continue;
            position = entries[entries.length - 1]!.id;
            await onEntries(entries);
          } catch (err) {
            // Connection lost (Redis restarted, network): report, wait, read on from the same position.
            if (stopped) break;
            onError(err as Error);
            await new Promise((r) => setTimeout(r, 500));
          }
        }
      })();
      return {
        stop() {
          stopped = true;
          followers.delete(reader);
          reader.destroy();
        },
      };
    },
    async sessionEntries(sessionId) {
      return parseEntries(await (await ready()).sendCommand(['XRANGE', sessionKey(sessionId, prefix), '-', '+']));
    },
    async close() {
      for (const r of followers) r.destroy();
      followers.clear();
      if (client.isOpen) await client.close().catch(() => client.destroy());
    },
  };
}
