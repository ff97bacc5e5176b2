/** Versioned key names: a change of entry layout bumps the version, old consumers keep working. */
export const REDIS_KEY_PREFIX = 'claude-otel:v1';
/**
 * What a key prefix may be, wherever one is given (the sink's redis.keyPrefix, `sink discover
 * --redis-prefix`, `ui --redis-prefix`): the one rule, so a prefix the sink writes under is one the
 * web view can read. Printable ASCII without spaces, `{hash tags}` included (Redis Cluster keeps
 * the keys of one tag in one slot), at most 100 characters.
 */
export const KEY_PREFIX_RULE = /^[\x21-\x7e]{1,100}$/;
export const KEY_PREFIX_HINT = 'printable ASCII without spaces, 1 to 100 characters';
export const globalSpansKey = (prefix = REDIS_KEY_PREFIX) => `${prefix}:spans`;
export const globalLogsKey = (prefix = REDIS_KEY_PREFIX) => `${prefix}:logs`;
export const sessionKey = (sessionId: string, prefix = REDIS_KEY_PREFIX) => `${prefix}:session:${sessionId}`;
export const batchMarkerKey = (hash: string, prefix = REDIS_KEY_PREFIX) => `${prefix}:batch:${hash}`;
/** Marker of the chunk of a batch that starts at record `from` (multi-chunk script writes). */
export const chunkMarkerKey = (hash: string, from: number, prefix = REDIS_KEY_PREFIX) => `${prefix}:batch-chunk:${hash}:${from}`;
