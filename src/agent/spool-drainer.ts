/**
 * The spool drain policy: when to look at spool/new (fs.watch, a 250 ms poll, and before each
 * http event so that command-hook events keep their order), how long a young file that is still
 * being written is left alone, and what happens to each entry. Entries are taken in name order =
 * receipt order, and an entry received less than SPOOL_SETTLE_MS ago waits (with every entry after
 * it): hooks that Claude Code does not await (install/hook-entries.ts ASYNC_COMMAND_EVENTS) run
 * side by side, so a PostToolUse can be published a moment before the PreToolUse received just
 * before it; the wait lets the earlier one land first. A good event is ingested and its
 * file removed once the journal holds it; an entry that is not an event (symlink, FIFO, directory,
 * oversize, unreadable, or content that fails to parse or apply) is moved to spool/rejected/,
 * quarantined with its reason and counted: nothing in the spool is retried in a loop, blocks the
 * event loop, or keeps the agent from its idle exit. While the journal refuses writes (disk full)
 * nothing is drained: the files are the durable copy.
 */
import type { IngestResult, Ingestor } from './ingest.js';
import type { Journal } from './journal.js';
import type { Quarantine } from './quarantine.js';
import { claudePidOf, receiptMsOf, type Spool } from './spool.js';
import { every, guarded, type Component, type Log } from './component.js';
import { watch, type FSWatcher } from 'node:fs';

/** How long a young spool file that does not parse yet is left for its writer (hooks before the
 *  tmp/ + rename fix wrote straight into new/; the grace runs from the file's last modification). */
export const SPOOL_WRITE_GRACE_MS = 5000;
export const SPOOL_POLL_MS = 250;
/**
 * How long after its receipt time an entry waits before it is ingested: far longer than a hook
 * takes from reading the clock to publishing its file (a few ms), far shorter than the web view's
 * freshness budget (1 s). Entries dated more than a second ahead (a clock stepped back) do not wait.
 */
export const SPOOL_SETTLE_MS = 50;
/** Entries handled per turn of the event loop; the rest follow on the next turn. */
export const SPOOL_BATCH = 256;

export interface SpoolDrainerOptions {
  spool: Spool;
  spoolDir: string;
  journal: Journal;
  ingest: Ingestor['ingest'];
  quarantine: Quarantine;
  maxEventBytes: number;
  onRejected: (reason: string) => void;
  /** Called after each drain that ingested something (the reaper's idle clock). */
  onActivity?: () => void;
  log: Log;
  now?: () => number;
  graceMs?: number;
  pollMs?: number;
  settleMs?: number;
  watch?: boolean;
}

export interface SpoolDrainer extends Component {
  /** Takes what is in spool/new now; with `settle` (the watch and the poll) young entries wait. */
  drain(settle?: boolean): void;
  /** Before an http event: takes every entry now, young ones too (their hooks were awaited before it). */
  drainIfDirty(): void;
  /** Entries waiting in spool/new (for idle exit and the backlog gauge). */
  backlog(): number;
  /**
   * Before the reaper closes the sessions of Claude Code processes that are gone: takes what the
   * spool holds now (a process writes its last entries, its Stop and SessionEnd, just before it
   * ends), and returns the pids of which an entry still waits (settling, being written, the disk
   * refusing the journal, past one batch): their sessions are not over yet. Young entries keep
   * settling: an async hook of a process killed hard may still publish one received earlier.
   */
  takeNowFor(pids: readonly number[]): Set<number>;
}

export function createSpoolDrainer(options: SpoolDrainerOptions): SpoolDrainer {
  const { spool, journal, quarantine, log } = options;
  const now = options.now ?? Date.now;
  const grace = options.graceMs ?? SPOOL_WRITE_GRACE_MS;
  const settleMs = options.settleMs ?? SPOOL_SETTLE_MS;
  let settleTimer: NodeJS.Timeout | undefined;
  let dirty = true;
  let state: 'created' | 'started' | 'stopped' = 'created';
  let watcher: FSWatcher | undefined;
  let stopPoll: (() => void) | undefined;
  let again = false;
  /** Ingested, waiting for the journal to take them before their files go. */
  const unflushed = new Set<string>();
  /** Entries that could be neither moved nor removed: skipped, not counted as backlog. */
  const stuck = new Set<string>();

  const setAside = (name: string, reason: string, error: string) => {
    options.onRejected(reason);
    quarantine.keep({ stage: 'spool', reason, error, file: `spool/rejected/${name}` });
    if (!spool.reject(name)) stuck.add(name);
  };

  const consumeFlushed = () => {
    for (const name of unflushed) spool.consume(name);
    unflushed.clear();
  };

  /** Drains again when the youngest waiting entry has settled. */
  const drainWhenSettled = (waitMs: number) => {
    if (settleTimer || state !== 'started') return;
    settleTimer = setTimeout(guarded('spool drain', () => {
      settleTimer = undefined;
      if (state === 'started') drain(true);
    }, log), Math.ceil(waitMs) + 1);
    settleTimer.unref?.();
  };

  function drain(settle = false) {
    dirty = false;
    if (!journal.flush()) {
      dirty = true; // the disk refuses writes: leave the spool alone, retry on the next tick
      return;
    }
    consumeFlushed();
    const names = spool.list();
    let handled = 0;
    let ingested = 0;
    const nowMs = now();
    const youngSinceMs = nowMs - grace;
    for (const name of names) {
      if (unflushed.has(name) || stuck.has(name)) continue;
      if (settle && settleMs > 0) {
        const age = nowMs - (receiptMsOf(name) ?? -Infinity);
        if (age < settleMs && age > -1000) {
          dirty = true; // it and every entry after it (received later) wait
          drainWhenSettled(settleMs - age);
          break;
        }
      }
      if (handled >= SPOOL_BATCH) {
        scheduleAgain();
        break;
      }
      handled++;
      const item = spool.read(name, { maxBytes: options.maxEventBytes, youngSinceMs });
      if (item.kind === 'gone') continue;
      if (item.kind === 'incomplete') {
        dirty = true; // its writer may still be at it
        continue;
      }
      if (item.kind === 'refused') {
        setAside(name, item.reason, item.error);
        continue;
      }
      if (item.mtimeMs > youngSinceMs && !parses(item.body)) {
        dirty = true;
        continue;
      }
      const result: IngestResult = options.ingest(item.body, { timeMs: item.timeMs, via: 'spool', pid: item.pid, traceparent: item.traceparent }, { file: `spool/rejected/${name}` });
      if (result.ok) {
        unflushed.add(name);
        ingested++;
      } else if (result.reason === 'unavailable') {
        dirty = true;
        break;
      } else if (!spool.reject(name)) stuck.add(name); // counted and quarantined by the ingestor
    }
    if (unflushed.size && journal.flush()) consumeFlushed();
    if (ingested) options.onActivity?.();
  }

  function scheduleAgain() {
    if (again) return;
    again = true;
    setImmediate(guarded('spool drain', () => {
      again = false;
      if (state === 'started') drain(true);
    }, log));
  }

  return {
    name: 'spool-drainer',
    start() {
      if (state !== 'created') return;
      state = 'started';
      spool.trimRejected(); // a directory left over the bound (an older agent, a changed bound)
      drain(true);
      if (options.watch !== false) {
        try {
          watcher = watch(options.spoolDir, guarded('spool watch', () => {
            dirty = true;
            scheduleAgain();
          }, log));
          watcher.on('error', () => {}); // the poll below still drains
        } catch {
          /* polling below still drains */
        }
      }
      stopPoll = every(options.pollMs ?? SPOOL_POLL_MS, 'spool drain', () => drain(true), log);
    },
    drain,
    drainIfDirty() {
      if (dirty && state === 'started') drain();
    },
    backlog: () => spool.list().filter((n) => !stuck.has(n)).length,
    takeNowFor(pids) {
      if (state === 'started') drain(true);
      const wanted = new Set(pids);
      const waiting = new Set<number>();
      for (const name of spool.list()) {
        const pid = claudePidOf(name);
        if (pid !== undefined && wanted.has(pid) && !stuck.has(name) && !unflushed.has(name)) waiting.add(pid);
      }
      return waiting;
    },
    shutdown() {
      if (state === 'stopped') return;
      const was = state;
      state = 'stopped';
      stopPoll?.();
      watcher?.close();
      if (settleTimer) clearTimeout(settleTimer);
      if (was === 'started') drain(); // what arrived until now is journaled before the journal closes
    },
  };
}

function parses(body: string): boolean {
  try {
    JSON.parse(body);
    return true;
  } catch {
    return false;
  }
}
