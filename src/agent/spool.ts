/**
 * The spool: events written by command hooks (bin/claude-otel-hook) as one file each, named
 * `<receipt µs since epoch>-<claude pid>-<hook pid>.json`, written to tmp/ and renamed into new/.
 * The agent ingests them in name (= receipt time) order and deletes each once journaled.
 */
import { readdirSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface SpooledEvent {
  body: string;
  timeMs: number;
  pid?: number | undefined;
  file: string;
}

const NAME = /^(\d{13,19})-(\d+)-\d+\.json$/;

export interface Spool {
  /** Spooled events in receipt order; `consume` removes one once it is safely journaled. */
  list(): string[];
  read(name: string): SpooledEvent | undefined;
  consume(name: string): void;
  /** Moves a file that cannot be read as an event aside, so it is kept for inspection, not retried. */
  reject(name: string): void;
  backlog(): number;
  /** Cheap test (one stat) for "files may have arrived since the last list()". */
  mayHaveNew(): boolean;
}

export function createSpool(dirs: { spoolNew: string; spoolRejected: string }): Spool {
  let seenChange = -1;
  let lastCount = 0;
  const dirChange = () => {
    try {
      return statSync(dirs.spoolNew).mtimeMs;
    } catch {
      return -1;
    }
  };
  const list = () => {
    seenChange = dirChange();
    try {
      const names = readdirSync(dirs.spoolNew).filter((n) => n.endsWith('.json')).sort();
      lastCount = names.length;
      return names;
    } catch {
      lastCount = 0;
      return [];
    }
  };
  return {
    list,
    read(name) {
      const match = NAME.exec(name);
      let body: string;
      try {
        body = readFileSync(join(dirs.spoolNew, name), 'utf8');
      } catch {
        return undefined; // consumed meanwhile by another reader
      }
      const micros = match ? Number(match[1]!.slice(0, 16)) : Date.now() * 1000;
      const pid = match ? Number(match[2]) : undefined;
      return { body, timeMs: micros / 1000, pid: pid || undefined, file: name };
    },
    consume(name) {
      try {
        unlinkSync(join(dirs.spoolNew, name));
      } catch {
        /* already gone */
      }
    },
    reject(name) {
      try {
        renameSync(join(dirs.spoolNew, name), join(dirs.spoolRejected, name));
      } catch {
        /* already gone */
      }
    },
    backlog: () => list().length,
    // Files left by the last list(), or a directory changed since (mtime granularity is coarse, so
    // the agent also drains on fs.watch notifications and a timer).
    mayHaveNew: () => lastCount > 0 || dirChange() !== seenChange,
  };
}
