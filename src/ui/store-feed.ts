/**
 * The local store read as a feed. The store's session files are append-only (O_APPEND, whole lines),
 * so a position in the store is a byte offset per file, always at a line boundary: the cursor. The
 * session list carries the cursor it was read at, and every live event carries the cursor after it;
 * a page that reconnects (Last-Event-ID), even to a restarted ui server, gets exactly the lines it
 * has not seen. Readers dedupe by (traceId, spanId), as the store's format asks.
 */
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../store/prune.js';
import { fileKeyOfName, sessionFileName } from '../store/session-key.js';
import { parseSessionText } from '../store/session-reader.js';
import { summarizeSession, type SessionSummary } from '../store/session-summary.js';
import { parseLine, type StoredSpan } from '../store/stored-span.js';

/** fileKey → bytes consumed (a line boundary). */
export type Cursor = Map<string, number>;

const KEY = /^[A-Za-z0-9_-]{1,140}$/;

/** `key:offset,key:offset` (file keys never hold `:` or `,`). */
export function encodeCursor(cursor: Cursor): string {
  return [...cursor].filter(([, n]) => n > 0).map(([k, n]) => `${k}:${n.toString(36)}`).sort().join(',') || '0';
}

/** Undefined for text that is not a cursor (then the caller starts from "now"). */
export function decodeCursor(text: string | undefined | null): Cursor | undefined {
  if (text === undefined || text === null) return undefined;
  const cursor: Cursor = new Map();
  if (text === '0') return cursor;
  for (const part of text.split(',')) {
    const colon = part.lastIndexOf(':');
    const key = part.slice(0, colon);
    const digits = part.slice(colon + 1);
    const n = /^[0-9a-z]{1,11}$/.test(digits) ? parseInt(digits, 36) : NaN;
    if (colon < 1 || !KEY.test(key) || !Number.isSafeInteger(n)) return undefined;
    cursor.set(key, n);
  }
  return cursor;
}

async function fileKeys(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).map(fileKeyOfName).filter((k): k is string => k !== undefined).sort();
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
}

/** Bytes [from, end of file) cut at the last newline; undefined when the file is gone. */
async function readFrom(dir: string, key: string, from: number): Promise<{ text: string; end: number } | undefined> {
  let handle;
  try {
    handle = await open(join(dir, sessionFileName(key)), 'r');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  try {
    const { size } = await handle.stat();
    const start = size < from ? 0 : from; // shorter than we saw: replaced, read it again
    if (size === start) return { text: '', end: start };
    const buf = Buffer.alloc(size - start);
    const { bytesRead } = await handle.read(buf, 0, buf.length, start);
    const last = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (last < 0) return { text: '', end: start };
    return { text: buf.subarray(0, last + 1).toString('utf8'), end: start + last + 1 };
  } finally {
    await handle.close();
  }
}

export interface StoreSnapshot {
  sessions: SessionSummary[];
  cursor: Cursor;
  /** Spans per file key, for searching. */
  spans: Map<string, StoredSpan[]>;
}

/** Every session with the cursor its text ends at. */
export async function readSnapshot(dir: string): Promise<StoreSnapshot> {
  const snapshot: StoreSnapshot = { sessions: [], cursor: new Map(), spans: new Map() };
  for (const key of await fileKeys(dir)) {
    const part = await readFrom(dir, key, 0);
    if (!part) continue;
    snapshot.cursor.set(key, part.end);
    const file = parseSessionText(key, part.text);
    const summary = summarizeSession(key, file.spans, file.resource);
    if (!summary) continue;
    snapshot.sessions.push(summary);
    snapshot.spans.set(key, file.spans);
  }
  snapshot.sessions.sort((a, b) => Date.parse(b.start) - Date.parse(a.start) || a.sessionId.localeCompare(b.sessionId));
  return snapshot;
}

/** The current end of every file, without reading them (a live feed that starts "now"). */
export async function cursorNow(dir: string): Promise<Cursor> {
  const cursor: Cursor = new Map();
  for (const key of await fileKeys(dir)) {
    const part = await readFrom(dir, key, Number.MAX_SAFE_INTEGER).catch(() => undefined);
    if (part) cursor.set(key, part.end);
  }
  return cursor;
}

export interface StoreChange {
  fileKey: string;
  /** Span lines appended since the cursor, in file order. */
  spans: StoredSpan[];
  /** The session's row after the change. */
  summary: SessionSummary | undefined;
}

/** What landed after `cursor`; advances `cursor` in place. */
export async function readChanges(dir: string, cursor: Cursor): Promise<StoreChange[]> {
  const changes: StoreChange[] = [];
  const keys = await fileKeys(dir);
  for (const gone of [...cursor.keys()].filter((k) => !keys.includes(k))) cursor.delete(gone);
  for (const key of keys) {
    const from = cursor.get(key) ?? 0;
    const part = await readFrom(dir, key, from);
    if (!part || part.end === from) continue;
    cursor.set(key, part.end);
    const spans: StoredSpan[] = [];
    for (const line of part.text.split('\n')) {
      const parsed = parseLine(line);
      if (parsed?.type === 'span') spans.push(parsed.span);
    }
    if (spans.length === 0) continue;
    const whole = await readFrom(dir, key, 0);
    const file = whole && parseSessionText(key, whole.text);
    changes.push({ fileKey: key, spans, summary: file && summarizeSession(key, file.spans, file.resource) });
  }
  return changes;
}

