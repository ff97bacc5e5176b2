import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from './prune.js';
import { fileKeyFor, fileKeyOfName, sessionFileName } from './session-key.js';
import { summarizeSession, type SessionSummary } from './session-summary.js';
import { nanoStringToMs, parseLine, type PlainAttributes, type StoredSpan } from './stored-span.js';

export interface SessionFile {
  fileKey: string;
  /** Attributes of the last resource line in the file. */
  resource: PlainAttributes;
  /** Deduplicated by trace and span id (the last line wins), sorted by start time. */
  spans: StoredSpan[];
}

/** Pure: parses a session file's text; bad or truncated lines are skipped. */
export function parseSessionText(fileKey: string, text: string): SessionFile {
  const byId = new Map<string, StoredSpan>();
  let resource: PlainAttributes = {};
  for (const line of text.split('\n')) {
    const parsed = parseLine(line);
    if (!parsed) continue;
    if (parsed.type === 'resource') {
      resource = parsed.attributes;
      continue;
    }
    const id = parsed.span.traceId + '/' + parsed.span.spanId;
    byId.delete(id);
    byId.set(id, parsed.span);
  }
  const spans = [...byId.values()];
  spans.sort(
    (a, b) => nanoStringToMs(a.startTimeUnixNano) - nanoStringToMs(b.startTimeUnixNano) || a.spanId.localeCompare(b.spanId),
  );
  return { fileKey, resource, spans };
}

export async function readSessionFile(dir: string, fileKey: string): Promise<SessionFile | undefined> {
  try {
    const text = await readFile(join(dir, sessionFileName(fileKey)), 'utf8');
    return parseSessionText(fileKey, text);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

async function listFileKeys(dir: string): Promise<string[]> {
  try {
    const names = await readdir(dir);
    return names.map(fileKeyOfName).filter((k): k is string => k !== undefined).sort();
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
}

/** All sessions in the store, newest start first. A missing directory is an empty store. */
export async function listSessions(dir: string): Promise<SessionSummary[]> {
  const out: SessionSummary[] = [];
  for (const key of await listFileKeys(dir)) {
    const file = await readSessionFile(dir, key);
    if (!file) continue;
    const summary = summarizeSession(key, file.spans, file.resource);
    if (summary) out.push(summary);
  }
  out.sort((a, b) => Date.parse(b.start) - Date.parse(a.start) || a.sessionId.localeCompare(b.sessionId));
  return out;
}

export type SessionLookup =
  | { status: 'found'; summary: SessionSummary; spans: StoredSpan[]; resource: PlainAttributes }
  | { status: 'not_found' }
  | { status: 'ambiguous'; candidates: string[] };

/**
 * Finds a session by full id, unique id prefix, or 'last' (the newest start, i.e. the first
 * row of listSessions).
 */
export async function findSession(dir: string, query: string): Promise<SessionLookup> {
  if (query === 'last') {
    const newest = (await listSessions(dir))[0];
    return newest ? found(dir, newest.fileKey) : { status: 'not_found' };
  }
  if (query.length === 0) return { status: 'not_found' };
  // Exact id: its file name is derived from it.
  const exact = await found(dir, fileKeyFor(query));
  if (exact.status === 'found') return exact;
  // Prefix of a (safe) session id: the file names suffice.
  const keys = await listFileKeys(dir);
  const byName = keys.filter((k) => k.startsWith(query) && !k.startsWith('h-'));
  if (byName.length === 1 && byName[0]) return found(dir, byName[0]);
  if (byName.length > 1) return { status: 'ambiguous', candidates: byName };
  // Hashed file names, or a trace id prefix: look inside.
  const matches = (await listSessions(dir)).filter(
    (s) => s.sessionId.startsWith(query) || s.traceId.startsWith(query),
  );
  if (matches.length === 1 && matches[0]) return found(dir, matches[0].fileKey);
  if (matches.length > 1) return { status: 'ambiguous', candidates: matches.map((m) => m.sessionId) };
  return { status: 'not_found' };
}

async function found(dir: string, fileKey: string): Promise<SessionLookup> {
  const file = await readSessionFile(dir, fileKey);
  const summary = file && summarizeSession(fileKey, file.spans, file.resource);
  if (!file || !summary) return { status: 'not_found' };
  return { status: 'found', summary, spans: file.spans, resource: file.resource };
}

export class AmbiguousSessionError extends Error {
  constructor(
    readonly query: string,
    readonly candidates: string[],
  ) {
    super(`session id prefix '${query}' matches ${candidates.length} sessions`);
    this.name = 'AmbiguousSessionError';
  }
}

/**
 * The spans of one session (see findSession); undefined when not found; throws
 * AmbiguousSessionError when a prefix matches several sessions.
 */
export async function readSession(dir: string, sessionIdOrPrefix: string): Promise<StoredSpan[] | undefined> {
  const result = await findSession(dir, sessionIdOrPrefix);
  if (result.status === 'found') return result.spans;
  if (result.status === 'ambiguous') throw new AmbiguousSessionError(sessionIdOrPrefix, result.candidates);
  return undefined;
}
