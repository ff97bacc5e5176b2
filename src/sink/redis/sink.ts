import { createHash } from 'node:crypto';
import { createClient } from 'redis';
import type { RedisConfig } from '../config.js';
import type { Batch, Destination, Logger } from '../destination.js';
import { DestinationError } from '../failures.js';
import type { SinkMetrics } from '../metrics.js';
import { recordArgs } from './entries.js';
import { REDIS_KEY_PREFIX, batchMarkerKey, chunkMarkerKey, globalLogsKey, globalSpansKey, sessionKey } from './keys.js';
import { SCRIPT_CHUNK_RECORDS, WRITE_SCRIPT, isNoScript, isScriptDenied } from './script.js';

export { logFields, spanFields } from './entries.js';
export { SCRIPT_CHUNK_RECORDS } from './script.js';

export interface RedisSinkOptions {
  log: Logger;
  /** Key prefix; tests use their own to stay isolated. */
  keyPrefix?: string;
  metrics?: SinkMetrics | undefined;
}

/**
 * The sessions of a batch that get a per-session stream: the first `max` distinct ones, in record
 * order. Records of the others still go to the global stream (their entries carry session_id).
 */
export function sessionStreams(batch: Batch, max: number): { allowed: Set<string>; skipped: number } {
  const allowed = new Set<string>();
  let skipped = 0;
  const see = (id: string | null) => {
    if (!id) return;
    if (allowed.has(id)) return;
    if (allowed.size < max) allowed.add(id);
    else skipped++;
  };
  for (const s of batch.spans) see(s.sessionId);
  for (const l of batch.logs) see(l.sessionId);
  return { allowed, skipped };
}

/** How long a batch marker suppresses a replay of the same batch (collector retries). */
const MARKER_TTL_SECONDS = 3_600;
const MARKER_TTL = String(MARKER_TTL_SECONDS);

function batchHash(batch: Batch): string {
  const h = createHash('sha256');
  for (const s of batch.spans) h.update(`${s.traceId}/${s.spanId}/${s.startTime}/${s.endTime ?? ''};`);
  for (const l of batch.logs) h.update(`${l.recordId};`);
  return h.digest('hex').slice(0, 32);
}

export function createRedisSink(config: RedisConfig, options: RedisSinkOptions): Destination {
  const { log } = options;
  const prefix = options.keyPrefix ?? REDIS_KEY_PREFIX;
  const client = createClient({
    url: config.url,
    // Fail fast while disconnected (→ 503) instead of queueing commands in memory.
    disableOfflineQueue: true,
    commandOptions: { timeout: config.commandTimeoutMs },
    socket: { connectTimeout: 3_000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2_000) },
  });
  /** 'script': WRITE_SCRIPT is loaded as `sha`; 'pipeline': scripts are refused (for good); unknown before the first load. */
  let mode: 'script' | 'pipeline' | undefined;
  let sha = '';
  let loading: Promise<void> | undefined;

  let lastError = '';
  client.on('error', (err: Error) => {
    if (err.message !== lastError) log.warn('redis connection error', { error: err.message });
    lastError = err.message;
  });
  client.on('ready', () => {
    if (lastError) log.info('redis connection restored');
    lastError = '';
    // (Re)load the write script on every connect (a restarted Redis has an empty script cache);
    // a failure here is retried by the next batch.
    if (mode !== 'pipeline') loadScript().catch(() => {});
  });
  let started = false;
  let stopped = false;
  let lastSkipLog = 0;

  const spansKey = globalSpansKey(prefix);
  const logsKey = globalLogsKey(prefix);
  const globalMaxLen = String(config.globalMaxLen);
  const sessionMaxLen = String(config.sessionMaxLen);
  const sessionTtl = String(config.sessionTtlSeconds);

  const usePipeline = (err: unknown) => {
    if (mode !== 'pipeline') {
      log.warn('redis refuses scripts; writing batches as a pipeline of XADDs instead', { error: (err as Error).message });
    }
    mode = 'pipeline';
  };
  const loadScript = (): Promise<void> =>
    (loading ??= (async () => {
      try {
        sha = String(await client.sendCommand(['SCRIPT', 'LOAD', WRITE_SCRIPT]));
        mode = 'script';
      } catch (err) {
        if (!isScriptDenied(err)) throw err;
        usePipeline(err);
      }
    })().finally(() => {
      loading = undefined;
    }));

  /**
   * The records of `ranges` (indexes into spans-then-logs) as one pipelined round trip: XADD to the
   * global and the session stream per record, EXPIRE per session, SET of the marker. Not atomic: a
   * connection lost mid-batch can leave part of it written, and the retry then repeats that part.
   * Commands go in as pre-built argument arrays (XADD key MAXLEN ~ n * field value ...): the global
   * and the session entry share one field list, nothing is parsed per command.
   */
  const pipelineWrite = async (batch: Batch, ranges: ReadonlyArray<readonly [number, number]>, marker: string, allowed: Set<string>) => {
    const multi = client.multi();
    const sessions = new Set<string>();
    const add = (key: string, maxLen: string, fields: string[]) => {
      const args = ['XADD', key, 'MAXLEN', '~', maxLen, '*'];
      for (let i = 0; i < fields.length; i++) args.push(fields[i]!);
      multi.addCommand(args);
    };
    const fields: string[] = [];
    for (const [from, to] of ranges) {
      for (let i = from; i < to; i++) {
        fields.length = 0;
        const sessionId = recordArgs(batch, i, fields);
        add(i < batch.spans.length ? spansKey : logsKey, globalMaxLen, fields);
        if (sessionId && allowed.has(sessionId)) {
          add(sessionKey(sessionId, prefix), sessionMaxLen, fields);
          sessions.add(sessionId);
        }
      }
    }
    for (const id of sessions) multi.addCommand(['EXPIRE', sessionKey(id, prefix), sessionTtl]);
    multi.addCommand(['SET', marker, '1', 'EX', MARKER_TTL]);
    await multi.execAsPipeline();
  };

  /** EVALSHA arguments for records [from, to); args[1] (the sha) is filled in when sent. */
  const scriptChunk = (batch: Batch, from: number, to: number, marker: string, allowed: Set<string>): string[] => {
    const args = ['EVALSHA', '', '', marker, spansKey, logsKey];
    const argv = [globalMaxLen, sessionMaxLen, sessionTtl, MARKER_TTL];
    const sessionIndex = new Map<string, string>();
    for (let i = from; i < to; i++) {
      const at = argv.length;
      argv.push(i < batch.spans.length ? '2' : '3', '0', '');
      const sessionId = recordArgs(batch, i, argv);
      if (sessionId && allowed.has(sessionId)) {
        let k = sessionIndex.get(sessionId);
        if (k === undefined) {
          args.push(sessionKey(sessionId, prefix));
          k = String(args.length - 3); // its KEYS index (KEYS[1] is args[3])
          sessionIndex.set(sessionId, k);
        }
        argv[at + 1] = k;
      }
      argv[at + 2] = String(argv.length - at - 3);
    }
    args[2] = String(args.length - 3);
    for (let i = 0; i < argv.length; i++) args.push(argv[i]!);
    return args;
  };

  /**
   * The batch as EVALSHA calls of at most SCRIPT_CHUNK_RECORDS records, pipelined: each chunk is
   * handed to the socket before the next is built, so Redis runs one while Node encodes the next.
   * Each call is atomic: it skips its chunk if the chunk's marker exists and sets it with the
   * writes (a single chunk's marker is the batch marker). So a batch cut short (connection lost,
   * sink killed) and replayed, to this replica or another one sharing the Redis, writes only the
   * chunks that are missing; the batch marker is set once all of them are in.
   */
  const scriptWrite = async (batch: Batch, hash: string, marker: string, allowed: Set<string>): Promise<void> => {
    const n = batch.spans.length + batch.logs.length;
    const single = n <= SCRIPT_CHUNK_RECORDS;
    type Chunk = { from: number; to: number; args: string[] };
    type Outcome = { ok: true; value: unknown } | { ok: false; reason: unknown };
    // Settled at once: a rejection while the next chunk is being built is not left unhandled.
    const send = (c: Chunk): Promise<Outcome> => {
      c.args[1] = sha;
      return client.sendCommand(c.args).then(
        (value) => ({ ok: true, value }),
        (reason: unknown) => ({ ok: false, reason }),
      );
    };
    let pending: Chunk[] = [];
    let sent: Array<Promise<Outcome>> = [];
    for (let from = 0; from < n; from += SCRIPT_CHUNK_RECORDS) {
      const to = Math.min(n, from + SCRIPT_CHUNK_RECORDS);
      const chunk = { from, to, args: scriptChunk(batch, from, to, single ? marker : chunkMarkerKey(hash, from, prefix), allowed) };
      pending.push(chunk);
      sent.push(send(chunk));
      // node-redis writes on setImmediate: let it write this chunk before building the next.
      if (to < n) await new Promise((resolve) => setImmediate(resolve));
    }
    for (let attempt = 0; ; attempt++) {
      const results = await Promise.all(sent);
      const failed: Chunk[] = [];
      let noScript: unknown;
      let denied: unknown;
      let other: unknown;
      results.forEach((r, k) => {
        if (r.ok) return;
        failed.push(pending[k]!);
        if (isNoScript(r.reason)) noScript ??= r.reason;
        else if (isScriptDenied(r.reason)) denied ??= r.reason;
        else other ??= r.reason;
      });
      if (other !== undefined) throw other; // connection lost, timeout, …: classified as before
      if (!failed.length) break;
      // NOSCRIPT / NOPERM: the chunk did not run. Reload and retry once (the cache was flushed, or
      // Redis restarted), or write the chunks that were refused as a pipeline.
      if (denied === undefined && attempt === 0) await loadScript();
      else if (denied === undefined) throw noScript;
      else usePipeline(denied);
      if (mode === 'pipeline') {
        await pipelineWrite(batch, failed.map((c) => [c.from, c.to] as const), marker, allowed);
        return;
      }
      pending = failed;
      sent = failed.map(send);
    }
    if (!single) await client.sendCommand(['SET', marker, '1', 'EX', MARKER_TTL]);
  };

  return {
    name: 'redis',
    async start() {
      if (started || stopped) return;
      started = true;
      // Do not block start on an unreachable Redis: writes answer 503 until it is back.
      client.connect().catch((err: Error) => log.warn('redis connect failed; retrying', { error: err.message }));
    },
    async consume(batch: Batch) {
      if (!client.isReady) throw new DestinationError('redis not connected', { kind: 'retryable', reason: 'redis not connected' });
      const n = batch.spans.length + batch.logs.length;
      if (!n) return;
      const hash = batchHash(batch);
      const marker = batchMarkerKey(hash, prefix);
      const { allowed, skipped } = sessionStreams(batch, config.maxSessionStreamsPerBatch);
      if (mode === undefined) await loadScript();
      if (mode === 'script') await scriptWrite(batch, hash, marker, allowed);
      else {
        // Fallback (EVALSHA not permitted): one pipelined round trip after the replay check.
        if ((await client.exists(marker)) === 1) return; // replay of a batch already written
        await pipelineWrite(batch, [[0, n]], marker, allowed);
      }
      if (skipped > 0) {
        options.metrics?.skipped('redis', 'session_stream_limit', skipped);
        const now = Date.now();
        if (now - lastSkipLog > 10_000) {
          lastSkipLog = now;
          log.warn('batch holds more sessions than redis.maxSessionStreamsPerBatch; the rest went to the global stream only', {
            limit: config.maxSessionStreamsPerBatch,
            skipped,
          });
        }
      }
    },
    async shutdown() {
      if (stopped) return;
      stopped = true;
      if (client.isOpen) await client.close().catch(() => client.destroy());
      else if (started) client.destroy();
    },
  };
}
