import { createHash } from 'node:crypto';
import type { StoredSpan } from './stored-span.js';

/** Only keys matching this reach the file system as-is. */
export const SAFE_KEY = /^[A-Za-z0-9_-]+$/;
const MAX_KEY_LENGTH = 128;

/** Extension of session files in the store directory. */
export const SESSION_FILE_SUFFIX = '.jsonl';

/**
 * The file key for a session id: the id itself when it is safe and short, else `h-` plus
 * 32 hex digits of its SHA-256. Never contains a path separator or a dot.
 */
export function fileKeyFor(sessionId: string): string {
  if (sessionId.length <= MAX_KEY_LENGTH && SAFE_KEY.test(sessionId)) return sessionId;
  return 'h-' + createHash('sha256').update(sessionId).digest('hex').slice(0, 32);
}

/** The session a span belongs to: attribute `session.id`, else its trace id. */
export function sessionIdOf(span: Pick<StoredSpan, 'traceId' | 'attributes'>): string {
  const id = span.attributes['session.id'];
  return typeof id === 'string' && id.length > 0 ? id : span.traceId;
}

export function sessionFileName(fileKey: string): string {
  return fileKey + SESSION_FILE_SUFFIX;
}

/** The file key of a store file name, or undefined for anything that is not a session file. */
export function fileKeyOfName(name: string): string | undefined {
  if (!name.endsWith(SESSION_FILE_SUFFIX)) return undefined;
  const key = name.slice(0, -SESSION_FILE_SUFFIX.length);
  return SAFE_KEY.test(key) ? key : undefined;
}
