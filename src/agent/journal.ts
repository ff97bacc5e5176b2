/**
 * The journal: every accepted event, appended before the agent answers. After a crash the agent
 * replays it to rebuild open spans with their original ids and start times. Compaction drops the
 * events of sessions that have ended and whose spans were all exported.
 */
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { BridgeEvent } from '../model/types.js';

export interface Journal {
  /** Buffers one event; `flush` (or `flushSoon`) writes the buffer with one write. */
  append(event: BridgeEvent): void;
  /** Writes what is buffered, now. */
  flush(): void;
  /** Resolves once everything appended so far is written: at the end of this turn of the event
   *  loop, so that the events of concurrent requests share one write. */
  flushSoon(): Promise<void>;
  readAll(): { events: BridgeEvent[]; corrupt: number };
  /** Rewrites the journal with only the events `keep` accepts. */
  compact(keep: (event: BridgeEvent) => boolean): { kept: number; dropped: number };
  sizeBytes(): number;
  close(): void;
}

export function createJournal(file: string, options: { fsync?: boolean } = {}): Journal {
  let fd = openSync(file, 'a', 0o600);
  let buffer: string[] = [];
  let pendingChars = 0;
  let waiters: (() => void)[] = [];
  let scheduled = false;

  const flush = () => {
    if (buffer.length) {
      writeSync(fd, buffer.join(''));
      if (options.fsync) fsyncSync(fd);
      buffer = [];
      pendingChars = 0;
    }
    const done = waiters;
    waiters = [];
    scheduled = false;
    for (const w of done) w();
  };

  const readAll = () => {
    const events: BridgeEvent[] = [];
    let corrupt = 0;
    if (!existsSync(file)) return { events, corrupt };
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        events.push(JSON.parse(line) as BridgeEvent);
      } catch {
        corrupt++; // a line cut short by a crash
      }
    }
    return { events, corrupt };
  };

  return {
    append(event) {
      const line = `${JSON.stringify(event)}\n`;
      buffer.push(line);
      pendingChars += line.length;
    },
    flush,
    flushSoon() {
      return new Promise<void>((resolve) => {
        waiters.push(resolve);
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    readAll() {
      flush();
      return readAll();
    },
    compact(keep) {
      flush();
      const { events } = readAll();
      const kept = events.filter(keep);
      const tmp = `${file}.tmp`;
      const out = openSync(tmp, 'w', 0o600);
      writeSync(out, kept.map((e) => `${JSON.stringify(e)}\n`).join(''));
      fsyncSync(out);
      closeSync(out);
      closeSync(fd);
      renameSync(tmp, file);
      fd = openSync(file, 'a', 0o600);
      return { kept: kept.length, dropped: events.length - kept.length };
    },
    /** Written size plus what is buffered (counted in characters): no write as a side effect. */
    sizeBytes() {
      return fstatSync(fd).size + pendingChars;
    },
    close() {
      flush();
      closeSync(fd);
    },
  };
}
