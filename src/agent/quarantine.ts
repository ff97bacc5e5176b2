/**
 * Quarantine: where an event that cannot be processed goes instead of being retried or crashing
 * the agent. Each entry is one file in `<home>/quarantine/` holding the stage that failed (ingest,
 * spool, replay, journal), a reason, the error and the input (capped), so that it can be inspected
 * and `doctor` can show it. Bounded in count and bytes: past the bound the oldest entry is deleted,
 * and everything that could not be kept (evicted, or the disk refused the write) is counted.
 * Never throws: a failure to quarantine must not turn into a failure to ingest.
 */
import { mkdirSync, readdirSync, lstatSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Component, Log } from './component.js';

export type QuarantineStage = 'ingest' | 'spool' | 'replay' | 'journal';

export interface QuarantineInput {
  stage: QuarantineStage;
  reason: string;
  error?: string | undefined;
  /** The input as received (capped at `maxEntryBytes`). */
  body?: string | Buffer | undefined;
  /** Where the input itself was moved to instead (spool entries), relative to the home. */
  file?: string | undefined;
}

export interface QuarantineEntry {
  file: string;
  atMs: number;
  stage: string;
  reason: string;
  bytes: number;
  error?: string | undefined;
}

export interface QuarantineSummary {
  count: number;
  bytes: number;
  /** Entries evicted past the bound or not written (disk full) since start. */
  dropped: number;
  /** The newest entries, newest last. */
  recent: QuarantineEntry[];
}

export interface Quarantine extends Component {
  keep(input: QuarantineInput): void;
  summary(): QuarantineSummary;
}

export interface QuarantineOptions {
  dir: string;
  maxEntries?: number;
  maxBytes?: number;
  maxEntryBytes?: number;
  /** Called once per entry kept or not: the `claude_otel_quarantined_total{stage,reason}` counter. */
  onQuarantined?: (stage: string, reason: string) => void;
  onDropped?: (count: number) => void;
  now?: () => number;
  log?: Log;
}

const NAME = /^(\d+)-(\d+)-[0-9a-f]+-([a-z]+)-([a-z_]+)\.json$/;
const RECENT = 20;

export function createQuarantine(options: QuarantineOptions): Quarantine {
  const maxEntries = options.maxEntries ?? 200;
  const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  const maxEntryBytes = options.maxEntryBytes ?? 1024 * 1024;
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});
  const entries: QuarantineEntry[] = []; // oldest first
  let bytes = 0;
  let dropped = 0;
  let n = 0;
  let lastLogMs = -Infinity;

  const drop = (count: number) => {
    dropped += count;
    options.onDropped?.(count);
  };

  /** Makes room for `count` more entries of `incoming` bytes (0, 0: just enforce the bound). */
  const evictFor = (count: number, incoming: number) => {
    while (entries.length && (entries.length + count > maxEntries || bytes + incoming > maxBytes)) {
      const old = entries.shift()!;
      bytes -= old.bytes;
      try {
        unlinkSync(join(options.dir, old.file));
      } catch {
        /* gone already */
      }
      drop(1);
    }
  };

  return {
    name: 'quarantine',
    start() {
      try {
        mkdirSync(options.dir, { recursive: true, mode: 0o700 });
        for (const file of readdirSync(options.dir).sort()) {
          const m = NAME.exec(file);
          if (!m) continue;
          const st = lstatSync(join(options.dir, file));
          if (!st.isFile()) continue;
          entries.push({ file, atMs: Number(m[1]), stage: m[3]!, reason: m[4]!, bytes: st.size });
          bytes += st.size;
        }
        evictFor(0, 0);
      } catch (err) {
        log(`quarantine: cannot read ${options.dir}: ${(err as Error).message}`);
      }
    },
    keep(input) {
      options.onQuarantined?.(input.stage, input.reason);
      let path: string | undefined;
      try {
        const raw = input.body === undefined ? undefined : typeof input.body === 'string' ? input.body : input.body.toString('utf8');
        const truncated = raw !== undefined && raw.length > maxEntryBytes;
        const record = {
          atMs: now(), stage: input.stage, reason: input.reason,
          ...(input.error ? { error: input.error.slice(0, 2000) } : {}),
          ...(input.file ? { file: input.file } : {}),
          ...(raw !== undefined ? { bodyChars: raw.length, truncated, body: truncated ? raw.slice(0, maxEntryBytes) : raw } : {}),
        };
        const text = `${JSON.stringify(record)}\n`;
        const size = Buffer.byteLength(text);
        const reason = input.reason.replace(/[^a-z_]/g, '_') || 'unknown';
        const file = `${record.atMs.toFixed(0)}-${String(n++).padStart(6, '0')}-${randomBytes(3).toString('hex')}-${input.stage}-${reason}.json`;
        evictFor(1, size);
        path = join(options.dir, file);
        writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
        entries.push({ file, atMs: record.atMs, stage: input.stage, reason, bytes: size, ...(input.error ? { error: input.error.slice(0, 200) } : {}) });
        bytes += size;
      } catch (err) {
        if (path && (err as NodeJS.ErrnoException).code !== 'EEXIST') {
          try {
            unlinkSync(path); // a partial entry (disk full) is worth nothing
          } catch {
            /* not created */
          }
        }
        drop(1);
        if (now() - lastLogMs > 60_000) {
          lastLogMs = now();
          log(`quarantine: could not keep a ${input.stage}/${input.reason} entry: ${(err as Error).message}`);
        }
      }
    },
    summary: () => ({ count: entries.length, bytes, dropped, recent: entries.slice(-RECENT) }),
    shutdown() {},
  };
}
