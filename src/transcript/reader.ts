/**
 * Incremental reading of Claude Code transcripts (JSONL files that only grow). Per path it keeps
 * the byte offset it has consumed, so each call reads only what was appended since the last one,
 * in fixed-size chunks: memory stays bounded by the chunk size plus the longest line kept,
 * whatever the file's size. A last line without its newline yet is not consumed: it is read again
 * next time (unless it already parses, then it is complete). Lines longer than the cap are
 * skipped and counted, never buffered. The offset never goes back: a file that shrank in place is
 * counted and read from its new end; a file replaced by another (new inode) is read from 0.
 * The files of the most recent paths stay open between reads (at most maxOpenFiles), so a read of a
 * grown file costs one lstat and one read; the lstat also tells when the path now names another file.
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

/** The type named by a line that starts with `{"type":"<plain name>"`, else undefined. */
function leadingType(line: Buffer): string | undefined {
  if (line.length < TYPE_FIRST.length + 2 || line.compare(TYPE_FIRST, 0, TYPE_FIRST.length, 0, TYPE_FIRST.length) !== 0) return undefined;
  const end = line.indexOf(QUOTE, TYPE_FIRST.length);
  if (end < 0 || end - TYPE_FIRST.length > 64) return undefined;
  const name = line.subarray(TYPE_FIRST.length, end);
  return name.includes(BACKSLASH) ? undefined : name.toString('utf8');
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
  const open = new Map<string, { fd: number; ino: number; dev: number }>(); // oldest first

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
    // One lstat first: most calls find nothing new (the agent asks at most events); a grown file
    // already open is read through its descriptor. Anything else (replaced, a link, gone, never
    // opened) opens the path again.
    const known = positions.get(path);
    let st: Stats | undefined;
    try {
      st = lstatSync(path, { throwIfNoEntry: false });
    } catch (err) {
      release(path); // ENOTDIR, EACCES, ...: nothing stays open for a path that cannot be checked
      throw err;
    }
    if (known && !known.skipping && st && st.isFile() && st.ino === known.ino && st.size === known.offset) return { records: 0, heldBack: 0, more: false };
    let kept = open.get(path);
    if (kept && !(st && st.isFile() && st.ino === kept.ino && st.dev === kept.dev)) {
      release(path);
      kept = undefined;
    }
    // O_NOFOLLOW: a path checked as a regular file cannot be swapped for a symlink afterwards.
    const fd = kept?.fd ?? openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    let opened: { fd: number; ino: number; dev: number } | undefined;
    try {
      const stat = kept ? st! : fstatSync(fd); // the lstat names the same file as the descriptor
      let pos = known;
      if (!pos || pos.ino !== stat.ino) pos = { offset: 0, ino: stat.ino, skipping: false };
      if (stat.size < pos.offset) {
        counters.shrunk++;
        pos = { offset: stat.size, ino: stat.ino, skipping: false };
      }
      positions.set(path, pos);
      const end = stat.size;
      let offset = pos.offset; // start of the first byte not yet consumed
      let skipping = pos.skipping;
      let parts: Buffer[] = []; // the current line's bytes, when it spans chunks
      let partBytes = 0;
      let records = 0;
      let filePos = offset;
      const finishLine = (lineEnd: number, bytes: Buffer | undefined) => {
        counters.lines++;
        const line = bytes ?? Buffer.concat(parts, partBytes);
        parts = [];
        partBytes = 0;
        offset = lineEnd;
        const type = decodeTypes && leadingType(line);
        if (type !== undefined && !decodeTypes!.has(type)) {
          records++;
          onRecord({ type });
          return;
        }
        const text = line.toString('utf8');
        if (text.trim() === '') return;
        const record = parseObject(text);
        if (!record) {
          counters.malformed++;
          return;
        }
        records++;
        onRecord(record);
      };
      let more = false;
      reading: while (filePos < end) {
        const n = readSync(fd, chunk, 0, Math.min(chunkBytes, end - filePos), filePos);
        if (n <= 0) break;
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
            if (partBytes === 0) finishLine(filePos + stop + 1, chunk.subarray(start, stop));
            else {
              parts.push(Buffer.from(chunk.subarray(start, stop)));
              partBytes += stop - start;
              finishLine(filePos + stop + 1, undefined);
            }
          } else {
            parts.push(Buffer.from(chunk.subarray(start, stop)));
            partBytes += stop - start;
          }
          start = stop + 1;
          // The per-call budget stops the read between lines (a longer line still completes); the
          // rest of this chunk is read again next time.
          if (!skipping && partBytes === 0 && offset - pos.offset >= maxBytesPerRead && offset < end) {
            more = true;
            filePos = offset;
            break reading;
          }
        }
        filePos += n;
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
      positions.set(path, { offset, ino: stat.ino, skipping });
      opened = { fd, ino: stat.ino, dev: stat.dev };
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
