/**
 * The spool: events written by command hooks as one file each, named
 * `<receipt µs since epoch>-<claude pid>-<hook pid>[-<traceparent>].json` (the traceparent: the
 * hook's TRACEPARENT, when Claude Code set a well-formed one), written to tmp/ and renamed into new/
 * (hooks of older versions wrote straight into new/). This module is the file side only: list
 * new/ (never tmp/), read one entry safely, consume or reject it. The drain policy is in
 * spool-drainer.ts.
 *
 * Reading never trusts the entry: lstat first (a symlink, FIFO, directory or socket is refused
 * without being opened), a size cap before reading, open with O_NOFOLLOW | O_NONBLOCK (an entry
 * swapped for a FIFO or link after the lstat cannot block or redirect the read), and the opened
 * file must be the regular file that was checked.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { RejectedBound } from './rejected-bound.js';

export type SpoolRead =
  | { kind: 'event'; body: string; timeMs: number; pid?: number | undefined; traceparent?: string | undefined; mtimeMs: number }
  /** Young and visibly incomplete (does not end in `}`): a hook may still be writing it. */
  | { kind: 'incomplete'; mtimeMs: number }
  | { kind: 'gone' }
  | { kind: 'refused'; reason: 'symlink' | 'fifo' | 'directory' | 'not_regular' | 'too_large' | 'unreadable'; error: string };

const NAME = /^(\d{13,19})-(\d+)-\d+(?:-(00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}))?\.json$/;

/** What a spool entry's name carries (receipt time in ms since epoch, Claude Code's pid, the
 *  hook's TRACEPARENT), or undefined for a foreign name. */
function parseName(name: string): { timeMs: number; pid: number; traceparent: string | undefined } | undefined {
  const match = NAME.exec(name);
  return match ? { timeMs: Number(match[1]!.slice(0, 16)) / 1000, pid: Number(match[2]), traceparent: match[3] } : undefined;
}

/** The receipt time a spool entry's name carries (ms since epoch), or undefined for a foreign name. */
export const receiptMsOf = (name: string): number | undefined => parseName(name)?.timeMs;
/** The Claude Code pid a spool entry's name carries, or undefined for a foreign name. */
export const claudePidOf = (name: string): number | undefined => parseName(name)?.pid;

export interface Spool {
  /** Spooled entries in receipt (= name) order. */
  list(): string[];
  read(name: string, options: { maxBytes: number; youngSinceMs: number }): SpoolRead;
  consume(name: string): void;
  /** Moves an entry aside (the entry itself: a link moves as a link), so it is kept, not retried.
   *  False when it could be neither moved nor removed. */
  reject(name: string): boolean;
  /** Removes the oldest rejected entries past the bound of spool/rejected/ (rejected-bound.ts). */
  trimRejected(): void;
  backlog(): number;
}

function kindOf(st: { isSymbolicLink(): boolean; isFIFO(): boolean; isDirectory(): boolean; isFile(): boolean }) {
  if (st.isSymbolicLink()) return 'symlink' as const;
  if (st.isFIFO()) return 'fifo' as const;
  if (st.isDirectory()) return 'directory' as const;
  return st.isFile() ? undefined : ('not_regular' as const);
}

function endsLikeJson(fd: number, size: number): boolean {
  const tail = Buffer.alloc(Math.min(16, size));
  readSync(fd, tail, 0, tail.length, size - tail.length);
  return tail.toString('latin1').trimEnd().endsWith('}');
}

export function createSpool(dirs: { spoolNew: string; spoolRejected: string }, options: { rejected?: RejectedBound } = {}): Spool {
  const list = () => {
    try {
      return readdirSync(dirs.spoolNew).filter((n) => n.endsWith('.json')).sort();
    } catch {
      return [];
    }
  };
  return {
    list,
    read(name, options) {
      const path = join(dirs.spoolNew, name);
      let st;
      try {
        st = lstatSync(path);
      } catch {
        return { kind: 'gone' };
      }
      const bad = kindOf(st);
      if (bad) return { kind: 'refused', reason: bad, error: `${bad} in the spool` };
      if (st.size > options.maxBytes) return { kind: 'refused', reason: 'too_large', error: `${st.size} bytes, over the ${options.maxBytes}-byte cap` };
      let fd: number;
      try {
        fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return { kind: 'gone' };
        if (code === 'ELOOP') return { kind: 'refused', reason: 'symlink', error: 'symlink in the spool' };
        return { kind: 'refused', reason: 'unreadable', error: `cannot open: ${code ?? (err as Error).message}` };
      }
      try {
        const opened = fstatSync(fd);
        const swapped = kindOf(opened) ?? (opened.ino !== st.ino ? 'not_regular' : undefined);
        if (swapped) return { kind: 'refused', reason: swapped, error: 'the entry changed while it was read' };
        if (opened.size > options.maxBytes) return { kind: 'refused', reason: 'too_large', error: `${opened.size} bytes, over the ${options.maxBytes}-byte cap` };
        if (opened.mtimeMs > options.youngSinceMs && (opened.size === 0 || !endsLikeJson(fd, opened.size))) {
          return { kind: 'incomplete', mtimeMs: opened.mtimeMs };
        }
        const buf = Buffer.allocUnsafe(opened.size);
        let got = 0;
        while (got < buf.length) {
          const n = readSync(fd, buf, got, buf.length - got, got);
          if (n === 0) break;
          got += n;
        }
        const named = parseName(name);
        return { kind: 'event', body: buf.toString('utf8', 0, got), timeMs: named?.timeMs ?? opened.mtimeMs, pid: named?.pid || undefined, traceparent: named?.traceparent, mtimeMs: opened.mtimeMs };
      } catch (err) {
        return { kind: 'refused', reason: 'unreadable', error: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
      } finally {
        closeSync(fd);
      }
    },
    consume(name) {
      try {
        unlinkSync(join(dirs.spoolNew, name));
      } catch {
        /* already gone */
      }
    },
    reject(name) {
      const from = join(dirs.spoolNew, name);
      for (const to of [name, `${name}.${process.pid}-${Date.now()}`]) {
        try {
          renameSync(from, join(dirs.spoolRejected, to));
          options.rejected?.added(to);
          return true;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
            try {
              lstatSync(from);
            } catch {
              return true; // gone meanwhile
            }
          }
        }
      }
      try {
        unlinkSync(from); // cannot be moved: do not retry it forever
        return true;
      } catch {
        return false;
      }
    },
    trimRejected: () => options.rejected?.trim(),
    backlog: () => list().length,
  };
}
