/**
 * The journal: every accepted event, appended before the agent answers. After a crash the agent
 * replays it to rebuild open spans with their original ids and start times.
 *
 * Crash safety: a flush writes whole records or nothing. Short writes are continued; a write that
 * fails part-way (ENOSPC, EDQUOT, EIO) is cut back to the last whole record, the buffer is kept,
 * the waiting requests learn that their event is not on disk (so they are not acknowledged), and
 * the write is retried by a timer until the disk takes it again, without a restart. At start a torn
 * tail (a last line without its newline, after power loss or a full disk) is cut off, quarantined
 * and counted, so the next append starts on a fresh line; the seq it held is not reused.
 * Reading is line by line (line-reader.ts); compaction rewrites through a temporary file.
 */
import { closeSync, constants, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { temporaryName } from '../shared/home.js';
import type { BridgeEvent } from '../model/types.js';
import { every, type Component, type Log } from './component.js';
import { readLines } from './line-reader.js';
import type { Quarantine } from './quarantine.js';

export class JournalUnavailable extends Error {}

/** The file operations the journal uses; tests inject short writes and ENOSPC. */
export interface JournalIo {
  writeSync(fd: number, buffer: Buffer, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  ftruncateSync(fd: number, length: number): void;
}

const nodeIo: JournalIo = {
  writeSync: (fd, buffer, offset, length) => writeSync(fd, buffer, offset, length),
  fsyncSync,
  ftruncateSync,
};

export interface JournalOptions {
  fsync?: boolean;
  quarantine?: Quarantine;
  log?: Log;
  io?: JournalIo;
  /** Events buffered while the disk refuses writes; past it, new events are not accepted. */
  maxPendingBytes?: number;
  /** Longest line replayed; longer lines are skipped and quarantined (an event is capped well below). */
  maxLineBytes?: number;
  retryMs?: number;
  onWriteFailure?: (error: Error) => void;
}

export interface JournalStats {
  healthy: boolean;
  writeFailures: number;
  pendingBytes: number;
  tornTails: number;
  bytes: number;
}

export interface Journal extends Component {
  /** Buffers one event; `flush` (or `flushSoon`) writes the buffer with one write. */
  append(event: BridgeEvent): void;
  /** Writes what is buffered, now; false when the disk refused it (the buffer is kept). */
  flush(): boolean;
  /** Resolves once everything appended so far is on disk, at the end of this turn of the event
   *  loop (so concurrent requests share one write); rejects with JournalUnavailable if it is not. */
  flushSoon(): Promise<void>;
  /** False while the disk refuses writes and the buffer is full: take no new event. */
  accepting(): boolean;
  /** Each whole line, in order; with `containing`, only the lines holding that text (others are not decoded). */
  replay(onLine: (line: string) => void, filter?: { containing: string }): { lines: number; tooLong: number };
  /** Rewrites the journal with each line mapped by `transform` (undefined drops it); undefined when it could not. */
  rewrite(transform: (line: string) => string | undefined): { kept: number; dropped: number } | undefined;
  /** The highest seq seen in a torn tail at start (not to be reused), or 0. */
  recoveredSeq(): number;
  sizeBytes(): number;
  stats(): JournalStats;
}

const errorOf = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));

export function createJournal(file: string, options: JournalOptions = {}): Journal {
  const io = options.io ?? nodeIo;
  const log = options.log ?? (() => {});
  const maxPending = options.maxPendingBytes ?? 8 * 1024 * 1024;
  const maxLine = options.maxLineBytes ?? 16 * 1024 * 1024;
  let fd = -1;
  let size = 0; // bytes of whole records on disk
  let buffer: string[] = [];
  let pendingChars = 0;
  let waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  let scheduled = false;
  let healthy = true;
  let writeFailures = 0;
  let tornTails = 0;
  let recoveredSeq = 0;
  let lastLogMs = -Infinity;
  let stopRetry: (() => void) | undefined;
  let state: 'created' | 'started' | 'stopped' = 'created';

  const open = () => openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);

  /** Cuts a last line without its newline back to the previous newline, and quarantines it. */
  const recoverTail = () => {
    if (size === 0) return;
    const rfd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const last = Buffer.alloc(1);
      readSync(rfd, last, 0, 1, size - 1);
      if (last[0] === 10) return;
      // Walk back to the previous newline in chunks; the fragment is at most one line (capped).
      const chunk = Buffer.alloc(64 * 1024);
      let end = size;
      let cut = 0;
      while (end > 0) {
        const start = Math.max(0, end - chunk.length);
        const n = readSync(rfd, chunk, 0, end - start, start);
        const nl = chunk.subarray(0, n).lastIndexOf(10);
        if (nl >= 0) {
          cut = start + nl + 1;
          break;
        }
        end = start;
        if (size - end > maxLine) {
          cut = end; // a fragment longer than any line: cut here, it is garbage either way
          break;
        }
      }
      const fragment = Buffer.alloc(Math.min(size - cut, 1024 * 1024));
      readSync(rfd, fragment, 0, fragment.length, cut);
      const seq = /^\{"seq":(\d+)/.exec(fragment.toString('utf8', 0, 64));
      if (seq) recoveredSeq = Number(seq[1]);
      io.ftruncateSync(fd, cut);
      log(`journal: cut a torn last line of ${size - cut} bytes (kept in quarantine)`);
      options.quarantine?.keep({ stage: 'journal', reason: 'torn_tail', error: `last line of ${size - cut} bytes had no newline`, body: fragment });
      size = cut;
      tornTails++;
    } finally {
      closeSync(rfd);
    }
  };

  const settle = (err?: Error) => {
    const done = waiters;
    waiters = [];
    scheduled = false;
    for (const w of done) {
      if (err) w.reject(err);
      else w.resolve();
    }
  };

  const flush = (): boolean => {
    if (buffer.length === 0 || fd < 0) {
      if (fd >= 0 || buffer.length === 0) settle();
      else settle(new JournalUnavailable('journal is closed'));
      return buffer.length === 0;
    }
    const data = Buffer.from(buffer.join(''), 'utf8');
    let written = 0;
    try {
      while (written < data.length) {
        const n = io.writeSync(fd, data, written, data.length - written);
        if (n <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
        written += n;
      }
      if (options.fsync) io.fsyncSync(fd);
    } catch (err) {
      const error = errorOf(err);
      if (written > 0) {
        try {
          io.ftruncateSync(fd, size); // no half record on disk: the next append starts on a whole line
        } catch (cutErr) {
          log(`journal: could not cut back a partial write: ${errorOf(cutErr).message}`);
        }
      }
      writeFailures++;
      healthy = false;
      options.onWriteFailure?.(error);
      if (Date.now() - lastLogMs > 10_000) {
        lastLogMs = Date.now();
        log(`journal: write failed (${(error as NodeJS.ErrnoException).code ?? error.message}); ${pendingChars} characters kept in memory, retrying`);
      }
      settle(new JournalUnavailable(`journal write failed: ${error.message}`));
      return false;
    }
    size += data.length;
    buffer = [];
    pendingChars = 0;
    if (!healthy) log('journal: writes succeed again');
    healthy = true;
    settle();
    return true;
  };

  return {
    name: 'journal',
    start() {
      if (state !== 'created') return;
      fd = open();
      size = fstatSync(fd).size;
      recoverTail();
      state = 'started';
      stopRetry = every(options.retryMs ?? 250, 'journal retry', () => {
        if (!healthy && buffer.length) flush();
      }, log);
    },
    append(event) {
      const line = `${JSON.stringify(event)}\n`;
      buffer.push(line);
      pendingChars += line.length;
    },
    flush,
    flushSoon() {
      return new Promise<void>((resolve, reject) => {
        waiters.push({ resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(() => {
            try {
              flush();
            } catch (err) {
              settle(errorOf(err)); // flush does not throw; this keeps it so
            }
          });
        }
      });
    },
    accepting: () => healthy || pendingChars < maxPending,
    replay(onLine, filter) {
      flush();
      const r = readLines(file, onLine, maxLine, filter?.containing);
      return { lines: r.lines, tooLong: r.tooLong };
    },
    rewrite(transform) {
      if (!flush()) return undefined; // what is buffered must be in the file we rewrite
      const tmp = temporaryName(file);
      let out = -1;
      try {
        out = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        let kept = 0;
        let dropped = 0;
        let chunk: string[] = [];
        let chunkChars = 0;
        const writeAll = (text: string) => {
          const data = Buffer.from(text, 'utf8');
          for (let off = 0; off < data.length; ) {
            const n = io.writeSync(out, data, off, data.length - off);
            if (n <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
            off += n;
          }
        };
        readLines(file, (line) => {
          const next = transform(line);
          if (next === undefined) {
            dropped++;
            return;
          }
          kept++;
          chunk.push(next, '\n');
          chunkChars += next.length + 1;
          if (chunkChars > 1024 * 1024) {
            writeAll(chunk.join(''));
            chunk = [];
            chunkChars = 0;
          }
        }, maxLine);
        writeAll(chunk.join(''));
        io.fsyncSync(out);
        closeSync(out);
        out = -1;
        renameSync(tmp, file);
        closeSync(fd);
        fd = open();
        size = fstatSync(fd).size;
        return { kept, dropped };
      } catch (err) {
        if (out >= 0) closeSync(out);
        try {
          unlinkSync(tmp);
        } catch {
          /* not created */
        }
        log(`journal: compaction failed, the journal is unchanged: ${errorOf(err).message}`);
        return undefined;
      }
    },
    recoveredSeq: () => recoveredSeq,
    /** Written size plus what is buffered (counted in characters): no write as a side effect. */
    sizeBytes: () => size + pendingChars,
    stats: () => ({ healthy, writeFailures, pendingBytes: pendingChars, tornTails, bytes: size }),
    shutdown() {
      if (state === 'stopped') return;
      const was = state;
      state = 'stopped';
      stopRetry?.();
      if (was !== 'started') return;
      flush();
      if (buffer.length) log(`journal: ${buffer.length} events could not be written before stopping`);
      closeSync(fd);
      fd = -1;
      settle(new JournalUnavailable('journal closed'));
    },
  };
}
