/**
 * Reads a file line by line with a fixed-size buffer, synchronously (replay and compaction run
 * before the agent listens, or inside one timer tick). Memory is one chunk plus the longest line
 * kept; a line longer than `maxLineBytes` is skipped whole and reported, never held in memory.
 * Opened with O_NOFOLLOW: a journal replaced by a symlink is refused, not followed.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';

const CHUNK = 1024 * 1024;

export interface LineReadResult {
  lines: number;
  /** Lines longer than the cap, skipped. */
  tooLong: number;
  /** Bytes after the last newline (a torn tail), not passed to `onLine`. */
  tail: Buffer;
}

/**
 * `containing`: only lines holding this text are decoded and passed on (a line inside one read
 * chunk is searched as bytes, so the others cost no string); the count still includes every line.
 */
export function readLines(file: string, onLine: (line: string) => void, maxLineBytes: number, containing?: string): LineReadResult {
  const needle = containing === undefined ? undefined : Buffer.from(containing, 'utf8');
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  const chunk = Buffer.allocUnsafe(CHUNK);
  let pieces: Buffer[] = [];
  let pendingLen = 0;
  let skipping = false;
  let lines = 0;
  let tooLong = 0;
  const take = (piece: Buffer) => {
    if (skipping) return;
    if (pendingLen + piece.length > maxLineBytes) {
      skipping = true;
      pieces = [];
      pendingLen = 0;
      return;
    }
    pieces.push(Buffer.from(piece)); // copy: the chunk is reused
    pendingLen += piece.length;
  };
  try {
    for (;;) {
      const n = readSync(fd, chunk, 0, CHUNK, null);
      if (n === 0) break;
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(10, start);
        if (nl < 0 || nl >= n) break;
        if (skipping || pendingLen + (nl - start) > maxLineBytes) {
          tooLong++;
          skipping = false;
          pieces = [];
          pendingLen = 0;
        } else {
          const part = chunk.subarray(start, nl);
          if (needle && !pieces.length && part.length && part.indexOf(needle) < 0) {
            lines++; // not wanted: never decoded
          } else {
            const line = pieces.length ? Buffer.concat([...pieces, part]).toString('utf8') : part.toString('utf8');
            pieces = [];
            pendingLen = 0;
            if (line) {
              lines++;
              onLine(line);
            }
          }
        }
        start = nl + 1;
      }
      if (start < n) take(chunk.subarray(start, n));
    }
  } finally {
    closeSync(fd);
  }
  if (skipping) tooLong++;
  return { lines, tooLong, tail: skipping ? Buffer.alloc(0) : Buffer.concat(pieces) };
}
