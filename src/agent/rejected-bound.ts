/**
 * spool/rejected/ is bounded in count and bytes: past either bound the oldest entries (by name:
 * receipt time) are removed, and each removal is counted (`claude_otel_spool_rejected_evicted_total`).
 * Only the agent of the home writes there (through Spool.reject), so an in-memory index built by one
 * scan is kept up to date by `added`. Never throws: trimming must not fail a drain.
 */
import { lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

export const REJECTED_MAX_ENTRIES = 1_000;
export const REJECTED_MAX_BYTES = 64 * 1024 * 1024;

export interface RejectedBoundOptions {
  dir: string;
  maxEntries?: number;
  maxBytes?: number;
  onEvicted?: (count: number) => void;
}

export interface RejectedBound {
  /** An entry was moved in under this name. */
  added(name: string): void;
  /** Scans the directory (once) and removes what is over the bound. */
  trim(): void;
  stats(): { entries: number; bytes: number; evicted: number };
}

export function createRejectedBound(options: RejectedBoundOptions): RejectedBound {
  const maxEntries = options.maxEntries ?? REJECTED_MAX_ENTRIES;
  const maxBytes = options.maxBytes ?? REJECTED_MAX_BYTES;
  let index: { name: string; bytes: number }[] | undefined; // oldest first
  let bytes = 0;
  let evicted = 0;

  const sizeOf = (name: string): number => {
    try {
      return lstatSync(join(options.dir, name)).size; // a link counts as itself
    } catch {
      return -1;
    }
  };

  const load = () => {
    if (index) return index;
    index = [];
    bytes = 0;
    let names: string[] = [];
    try {
      names = readdirSync(options.dir).sort();
    } catch {
      /* none yet */
    }
    for (const name of names) {
      const size = sizeOf(name);
      if (size < 0) continue;
      index.push({ name, bytes: size });
      bytes += size;
    }
    return index;
  };

  const enforce = () => {
    const entries = load();
    let n = 0;
    // The newest entry always stays, even if it alone is over the byte bound.
    while (entries.length > 1 && (entries.length > maxEntries || bytes > maxBytes)) {
      const old = entries.shift()!;
      bytes -= old.bytes;
      try {
        unlinkSync(join(options.dir, old.name));
      } catch {
        /* gone already */
      }
      n++;
    }
    if (n) {
      evicted += n;
      options.onEvicted?.(n);
    }
  };

  return {
    added(name) {
      const entries = load();
      const size = sizeOf(name);
      if (size >= 0 && !entries.some((e) => e.name === name)) {
        // Names sort by receipt time; an entry rejected late may be older than the newest kept one.
        const at = entries.findIndex((e) => e.name > name);
        entries.splice(at < 0 ? entries.length : at, 0, { name, bytes: size });
        bytes += size;
      }
      enforce();
    },
    trim: enforce,
    stats: () => {
      load();
      return { entries: index!.length, bytes, evicted };
    },
  };
}
