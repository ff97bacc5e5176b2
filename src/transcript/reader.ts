/**
 * Incremental reading of Claude Code transcripts (JSONL files that only grow). Per path it keeps
 * the byte offset it has consumed, so each call reads only what was appended since the last one,
 * in fixed-size chunks: memory stays bounded by the chunk size plus the longest line kept,
 * whatever the file's size. A last line without its newline yet is not consumed: it is read again
 * next time (unless it already parses, then it is complete). Lines longer than the cap are
 * skipped and counted, never buffered. The offset never goes back: a file that shrank in place is
 * counted and read from its new end; a file replaced by another (new inode) is read from 0.
 * The files of the most recent paths stay open between reads (at most maxOpenFiles), and a read of
 * a grown file kept open is one read() through its descriptor, from the offset: no stat. The path is
 * looked at again (one lstat: does it still name that regular file, did it shrink?) when the
 * descriptor has nothing new, and at least every recheckMs: a path replaced by another file or a
 * link is followed within that time, and only the data of the file checked when it was opened is
 * read through the old descriptor meanwhile.
 * Which paths may be read at all is decided by ./paths.ts, not here.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, type Stats } from 'node:fs';

export interface ReaderCounters {
  lines: number;
  bytes: number;
  /** Lines that are not JSON objects. */
  malformed: number;
  /** Lines over maxLineBytes: skipped without being held in memory. */
  oversized: number;
  /** Files found shorter than the offset already read (same inode). */
  shrunk: number;
}

/** What the reader remembers of one path: small, and persisted by the agent across restarts. */
export interface ReaderPosition {
  offset: number;
  ino: number;
  /** Inside an oversized line whose end has not been seen yet. */
  skipping: boolean;
}

export interface TranscriptReaderOptions {
  chunkBytes?: number;
  maxLineBytes?: number;
  /** Most bytes consumed per read() call; the rest waits for the next call. */
  maxBytesPerRead?: number;
  /**
   * Record types worth decoding. A line whose first key is `"type"` (Claude Code's metadata
   * records: queue operations, tools-used, last-prompt, ...) naming another type is not decoded:
   * `onRecord` gets `{ type }` alone, so it is still counted by type. Such a line that is not valid
   * JSON is then counted under its type, not as malformed. Default: every line is decoded.
   */
  decodeTypes?: ReadonlySet<string>;
  /** Files kept open between reads, most recently read first (default 32). */
  maxOpenFiles?: number;
  /** Longest time a kept descriptor is read without checking what its path names (default 1000 ms). */
  recheckMs?: number;
  now?: () => number;
}

export interface ReadOutcome {
  records: number;
  /** Bytes of a last line kept back for the next read. */
  heldBack: number;
  /** True when maxBytesPerRead stopped the read before the end of the file. */
  more: boolean;
}

export interface TranscriptReader {
  /** Reads what was appended to `path` since the last call; each complete JSON object goes to `onRecord`. */
  read(path: string, onRecord: (record: Record<string, unknown>) => void): ReadOutcome;
  position(path: string): ReaderPosition | undefined;
  /** Positions of every path, for persistence; `restore` takes them back. */
  positions(): Record<string, ReaderPosition>;
  restore(positions: Record<string, ReaderPosition>): void;
  /** Forgets the position of `path` and closes its file. */
  forget(path: string): void;
  /** Closes the file of `path` (its position is kept). */
  release(path: string): void;
  /** Closes every file kept open. */
  close(): void;
  counters: ReaderCounters;
}

const NEWLINE = 0x0a;

const TYPE_FIRST = Buffer.from('{"type":"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The type named by the line buf[from, to) when it starts with `{"type":"<plain name>"`, else undefined. */
function leadingType(buf: Buffer, from: number, to: number): string | undefined {
  const at = from + TYPE_FIRST.length;
  if (to - from < TYPE_FIRST.length + 2 || buf.compare(TYPE_FIRST, 0, TYPE_FIRST.length, from, at) !== 0) return undefined;
  const end = buf.indexOf(QUOTE, at);
  if (end < 0 || end >= to || end - at > 64) return undefined;
  const slash = buf.indexOf(BACKSLASH, at);
  return slash >= 0 && slash < end ? undefined : buf.toString('utf8', at, end);
}

/** A file kept open between reads, and when its path was last checked to name it. */
interface KeptFile {
  fd: number;
  ino: number;
  dev: number;
  checkedMs: number;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function createTranscriptReader(options: TranscriptReaderOptions = {}): TranscriptReader {
  const chunkBytes = options.chunkBytes ?? 256 * 1024;
  const maxLineBytes = options.maxLineBytes ?? 8 * 1024 * 1024;
  const maxBytesPerRead = options.maxBytesPerRead ?? 256 * 1024 * 1024;
  const positions = new Map<string, ReaderPosition>();
  const counters: ReaderCounters = { lines: 0, bytes: 0, malformed: 0, oversized: 0, shrunk: 0 };
  const chunk = Buffer.allocUnsafe(chunkBytes);
  const decodeTypes = options.decodeTypes;
  const maxOpenFiles = options.maxOpenFiles ?? 32;
  const recheckMs = options.recheckMs ?? 1000;
  const now = options.now ?? Date.now;
  const open = new Map<string, KeptFile>(); // oldest first

  const release = (path: string) => {
    const f = open.get(path);
    if (!f) return;
    open.delete(path);
    try {
      closeSync(f.fd);
    } catch {
      /* already closed */
    }
  };

  function read(path: string, onRecord: (record: Record<string, unknown>) => void): ReadOutcome {
    const known = positions.get(path);
    let kept = open.get(path);
    // A kept file checked recently is read through its descriptor, from the offset, without a
    // stat. `first`: the bytes that read put in `chunk` (0: nothing new, or not read that way).
    let first = 0;
    if (kept && known && !known.skipping && known.ino === kept.ino && now() - kept.checkedMs < recheckMs) {
      try {
        first = readSync(kept.fd, chunk, 0, chunkBytes, known.offset);
      } catch (err) {
        release(path);
        throw err;
      }
    }
    // Otherwise one lstat: what the path names now. Anything but the kept file (replaced, a link,
    // gone, never opened) opens the path again.
    let st: Stats | undefined;
    if (first === 0) {
      try {
        st = lstatSync(path, { throwIfNoEntry: false });
      } catch (err) {
        release(path); // ENOTDIR, EACCES, ...: nothing stays open for a path that cannot be checked
        throw err;
      }
      const same = kept !== undefined && st !== undefined && st.isFile() && st.ino === kept.ino && st.dev === kept.dev;
      if (same) kept!.checkedMs = now();
      else if (kept) {
        release(path);
        kept = undefined;
      }
      if (known && !known.skipping && st && st.isFile() && st.ino === known.ino && st.size === known.offset) return { records: 0, heldBack: 0, more: false };
    }
    // O_NOFOLLOW: a path checked as a regular file cannot be swapped for a symlink afterwards.
    const fd = kept?.fd ?? openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    let opened: KeptFile | undefined;
    try {
      // Identity and size from a stat when one was taken (the lstat names the kept descriptor's
      // file); the descriptor read alone knows its inode and reads up to the end it finds.
      const stat = first > 0 ? undefined : kept ? st! : fstatSync(fd);
      const ino = stat ? stat.ino : kept!.ino;
      const dev = stat ? stat.dev : kept!.dev;
      let pos = known;
      if (!pos || pos.ino !== ino) pos = { offset: 0, ino, skipping: false };
      if (stat && stat.size < pos.offset) {
        counters.shrunk++;
        pos = { offset: stat.size, ino, skipping: false };
      }
      positions.set(path, pos);
      const end = stat ? stat.size : Infinity;
      let offset = pos.offset; // start of the first byte not yet consumed
      let skipping = pos.skipping;
      let parts: Buffer[] = []; // the current line's bytes, when it spans chunks
      let partBytes = 0;
      let records = 0;
      let filePos = offset;
      const finishLine = (lineEnd: number, buf: Buffer, from: number, to: number) => {
        counters.lines++;
        offset = lineEnd;
        const type = decodeTypes && leadingType(buf, from, to);
        if (type !== undefined && !decodeTypes!.has(type)) {
          records++;
          onRecord({ type });
          return;
        }
        const text = buf.toString('utf8', from, to);
        const record = parseObject(text);
        if (!record) {
          if (text.trim() !== '') counters.malformed++;
          return;
        }
        records++;
        onRecord(record);
      };
      let more = false;
      let n = first;
      reading: for (;;) {
        let asked = chunkBytes;
        if (n === 0) {
          if (filePos >= end) break;
          asked = Math.min(chunkBytes, end - filePos);
          n = readSync(fd, chunk, 0, asked, filePos);
          if (n <= 0) break;
        }
        let start = 0;
        while (start < n) {
          const nl = chunk.indexOf(NEWLINE, start);
          const stop = nl < 0 || nl >= n ? n : nl;
          if (skipping) {
            if (stop < n) {
              skipping = false;
              offset = filePos + stop + 1;
            }
          } else if (partBytes + (stop - start) > maxLineBytes) {
            counters.oversized++;
            parts = [];
            partBytes = 0;
            if (stop < n) offset = filePos + stop + 1;
            else skipping = true;
          } else if (stop < n) {
            if (partBytes === 0) finishLine(filePos + stop + 1, chunk, start, stop);
            else {
              parts.push(Buffer.from(chunk.subarray(start, stop)));
              const line = Buffer.concat(parts, partBytes + (stop - start));
              parts = [];
              partBytes = 0;
              finishLine(filePos + stop + 1, line, 0, line.length);
            }
          } else {
            parts.push(Buffer.from(chunk.subarray(start, stop)));
            partBytes += stop - start;
          }
          start = stop + 1;
          // The per-call budget stops the read between lines (a longer line still completes); the
          // rest of this chunk is read again next time.
          if (!skipping && partBytes === 0 && offset - pos.offset >= maxBytesPerRead && (offset < filePos + n || (end === Infinity ? n === asked : offset < end))) {
            more = true;
            filePos = offset;
            break reading;
          }
        }
        filePos += n;
        if (n < asked) break; // a short read: the end of the file, for now
        n = 0;
      }
      if (skipping) offset = filePos; // the oversized line's remainder is skipped on the next read
      let heldBack = 0;
      if (partBytes > 0) {
        // A last line without its newline: complete if it parses (the newline is still coming),
        // else kept back and read again next time.
        const record = parseObject(Buffer.concat(parts, partBytes).toString('utf8'));
        if (record && !more) {
          counters.lines++;
          records++;
          offset = filePos;
          onRecord(record);
        } else heldBack = partBytes;
      }
      counters.bytes += offset - pos.offset;
      positions.set(path, { offset, ino, skipping });
      opened = kept ?? { fd, ino, dev, checkedMs: now() };
      return { records, heldBack, more };
    } finally {
      if (!opened) {
        // a failed read keeps nothing open
        if (kept) release(path);
        else closeSync(fd);
      } else {
        open.delete(path); // most recent last
        open.set(path, opened);
        for (const [oldest] of open) {
          if (open.size <= maxOpenFiles) break;
          release(oldest);
        }
      }
    }
  }

  return {
    read,
    position: (path) => positions.get(path),
    positions: () => Object.fromEntries(positions),
    restore(saved) {
      for (const [path, pos] of Object.entries(saved)) {
        if (Number.isSafeInteger(pos.offset) && pos.offset >= 0 && Number.isSafeInteger(pos.ino)) positions.set(path, { offset: pos.offset, ino: pos.ino, skipping: pos.skipping === true });
      }
    },
    forget(path) {
      positions.delete(path);
      release(path);
    },
    release,
    close() {
      for (const path of [...open.keys()]) release(path);
    },
    counters,
  };
}
