/** Versioned key names: a change of entry layout bumps the version, old consumers keep working. */
export const REDIS_KEY_PREFIX = 'claude-otel:v1';
export const globalSpansKey = (prefix = REDIS_KEY_PREFIX) => `${prefix}:spans`;
export const globalLogsKey = (prefix = REDIS_KEY_PREFIX) => `${prefix}:logs`;
export const sessionKey = (sessionId: string, prefix = REDIS_KEY_PREFIX) => `${prefix}:session:${sessionId}`;
export const batchMarkerKey = (hash: string, prefix = REDIS_KEY_PREFIX) => `${prefix}:batch:${hash}`;
/** Marker of the chunk of a batch that starts at record `from` (multi-chunk script writes). */
export const chunkMarkerKey = (hash: string, from: number, prefix = REDIS_KEY_PREFIX) => `${prefix}:batch-chunk:${hash}:${from}`;
