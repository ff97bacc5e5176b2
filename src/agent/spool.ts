/**
 * The spool: events written by command hooks (bin/claude-otel-hook) as one file each, named
 * `<receipt µs since epoch>-<claude pid>-<hook pid>.json`, written to tmp/ and renamed into new/.
 * The agent ingests them in name (= receipt time) order and deletes each once journaled.
 */
import { readdirSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
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
}

export function createSpool(dirs: { spoolNew: string; spoolRejected: string }): Spool {
  const list = () => {
    try {
      return readdirSync(dirs.spoolNew).filter((n) => n.endsWith('.json')).sort();
    } catch {
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
  };
}
