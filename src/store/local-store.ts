import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { isErrno, pruneStore, type PruneResult } from './prune.js';
import { fileKeyFor, sessionFileName, sessionIdOf } from './session-key.js';
import {
  encodeResourceLine,
  encodeSpanLine,
  toPlainAttributes,
  toStoredSpan,
  type StoredSpan,
} from './stored-span.js';

export interface LocalStoreOptions {
  /** Directory of session files; created (0700) on first export. */
  dir: string;
  /** Bound on the total size of session files; 0 = unbounded. */
  maxBytes: number;
  /** Session files not written for this long are deleted; 0 = keep forever. */
  maxAgeHours: number;
  /** Epoch milliseconds; injected in tests. */
  now?: () => number;
  /** A full directory scan happens at most once every this many exports (default 100),
   * earlier only when the running byte count or the oldest file's age says the bounds
   * are crossed. */
  pruneEvery?: number;
  /** Told about failures that do not fail an export (pruning). */
  onError?: (err: unknown) => void;
}

export interface LocalStoreExporter extends SpanExporter {
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
  /** Runs pruning now (after pending writes). */
  prune(): Promise<PruneResult>;
}

const TRACE_MAP_LIMIT = 1024;

/**
 * A SpanExporter that appends spans as JSON lines to `<dir>/<session key>.jsonl`, one file
 * per Claude Code session, and keeps the directory within maxBytes and maxAgeHours.
 * Writes are serialized; each export is one O_APPEND write per session file.
 */
export function createLocalStoreExporter(options: LocalStoreOptions): LocalStoreExporter {
  const { dir, maxBytes, maxAgeHours } = options;
  const now = options.now ?? Date.now;
  const pruneEvery = Math.max(1, options.pruneEvery ?? 100);
  const onError = options.onError ?? (() => {});

  /** Spans without `session.id` follow the session seen earlier for their trace. */
  const sessionByTrace = new Map<string, string>();
  /** Resource JSON last written to each file by this process. */
  const resourceWritten = new Map<string, string>();
  let chain: Promise<unknown> = Promise.resolve();
  let dirReady = false;
  let stopped = false;
  let exportsSincePrune = 0;
  let pruned = false;
  let approxBytes = 0;
  let oldestMtimeMs: number | undefined;

  function enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = chain.then(task, task);
    chain = run.catch(() => {});
    return run;
  }

  function rememberTrace(traceId: string, sessionId: string): void {
    if (sessionByTrace.get(traceId) === sessionId) return;
    sessionByTrace.delete(traceId);
    sessionByTrace.set(traceId, sessionId);
    if (sessionByTrace.size > TRACE_MAP_LIMIT) {
      const oldest = sessionByTrace.keys().next().value;
      if (oldest !== undefined) sessionByTrace.delete(oldest);
    }
  }

  interface FileBatch {
    resourceJson: string;
    lines: string;
  }

  function group(spans: ReadableSpan[]): Map<string, FileBatch> {
    const stored = spans.map((s) => ({ stored: toStoredSpan(s), resource: s.resource }));
    for (const { stored: s } of stored) {
      const id = s.attributes['session.id'];
      if (typeof id === 'string' && id) rememberTrace(s.traceId, id);
    }
    const byFile = new Map<string, FileBatch>();
    for (const { stored: s, resource } of stored) {
      const key = fileKeyFor(sessionOf(s));
      const batch = byFile.get(key);
      if (batch) {
        batch.lines += encodeSpanLine(s);
      } else {
        const resourceJson = JSON.stringify(toPlainAttributes(resource?.attributes));
        byFile.set(key, { resourceJson, lines: encodeSpanLine(s) });
      }
    }
    return byFile;
  }

  function sessionOf(s: StoredSpan): string {
    const own = s.attributes['session.id'];
    if (typeof own === 'string' && own) return own;
    return sessionByTrace.get(s.traceId) ?? sessionIdOf(s);
  }

  async function ensureDir(): Promise<void> {
    if (dirReady) return;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    dirReady = true;
  }

  // Recently written session files stay open (append mode), so a busy agent does not pay an
  // open and a close per session and export; pruning closes what it deletes.
  const handles = new Map<string, FileHandle>();
  const MAX_OPEN = 32;

  async function handleFor(key: string): Promise<FileHandle> {
    const cached = handles.get(key);
    if (cached) {
      handles.delete(key);
      handles.set(key, cached);
      return cached;
    }
    const handle = await open(join(dir, sessionFileName(key)), 'a', 0o600);
    handles.set(key, handle);
    if (handles.size > MAX_OPEN) await closeHandle(handles.keys().next().value!);
    return handle;
  }

  async function closeHandle(key: string): Promise<void> {
    const handle = handles.get(key);
    handles.delete(key);
    await handle?.close().catch(() => {});
  }

  async function append(key: string, text: string): Promise<void> {
    try {
      await (await handleFor(key)).appendFile(text);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      dirReady = false; // the directory went away under us
      await ensureDir();
      await (await handleFor(key)).appendFile(text);
    }
  }

  async function runPrune(keep: ReadonlySet<string>): Promise<PruneResult> {
    const result = await pruneStore({ dir, maxBytes, maxAgeHours, now: now(), keep });
    for (const key of result.deleted) {
      resourceWritten.delete(key);
      await closeHandle(key);
    }
    approxBytes = result.totalBytes;
    oldestMtimeMs = result.oldestMtimeMs;
    exportsSincePrune = 0;
    pruned = true;
    return result;
  }

  function pruneDue(): boolean {
    if (!pruned || exportsSincePrune >= pruneEvery) return true;
    if (maxBytes > 0 && approxBytes > maxBytes) return true;
    if (maxAgeHours > 0 && oldestMtimeMs !== undefined && now() - oldestMtimeMs > maxAgeHours * 3_600_000) {
      return true;
    }
    return false;
  }

  return {
    export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
      if (stopped) {
        resultCallback({ code: ExportResultCode.FAILED, error: new Error('local store exporter is shut down') });
        return;
      }
      let byFile: Map<string, FileBatch>;
      try {
        byFile = group(spans);
      } catch (err) {
        resultCallback({ code: ExportResultCode.FAILED, error: asError(err) });
        return;
      }
      void enqueue(async () => {
        try {
          await ensureDir();
          for (const [key, batch] of byFile) {
            // The resource goes once per file (again when it changes or after a restart).
            const withResource = resourceWritten.get(key) !== batch.resourceJson;
            const text = (withResource ? encodeResourceLine(JSON.parse(batch.resourceJson)) : '') + batch.lines;
            await append(key, text);
            resourceWritten.set(key, batch.resourceJson);
            approxBytes += Buffer.byteLength(text);
            if (oldestMtimeMs === undefined) oldestMtimeMs = now();
          }
        } catch (err) {
          resultCallback({ code: ExportResultCode.FAILED, error: asError(err) });
          return;
        }
        resultCallback({ code: ExportResultCode.SUCCESS });
        exportsSincePrune += 1;
        if (pruneDue()) {
          try {
            await runPrune(new Set(byFile.keys()));
          } catch (err) {
            onError(err);
          }
        }
      });
    },

    prune(): Promise<PruneResult> {
      return enqueue(() => runPrune(new Set()));
    },

    async forceFlush(): Promise<void> {
      await enqueue(async () => {});
    },

    async shutdown(): Promise<void> {
      stopped = true;
      await enqueue(async () => {
        for (const key of [...handles.keys()]) await closeHandle(key);
      });
    },
  };
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
