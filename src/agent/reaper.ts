/**
 * The reaper: closes sessions whose Claude Code process is gone (or that have been idle past the
 * configured time), evicts ended sessions from memory, and ends the agent when nothing is open,
 * the spool is empty, no span waits in the export buffer and nothing has happened for `idleExitSeconds`.
 */
import { processExists, procStat } from './agent-pid.js';
import { every, type Component, type Log } from './component.js';

/** True when the process exists and is not a zombie (Linux: /proc/PID/stat state Z or X; agent-pid.ts reads it). */
export function isAlive(pid: number): boolean {
  if (!processExists(pid)) return false;
  const stat = procStat(pid);
  return stat === undefined || (stat !== null && stat.state !== 'Z' && stat.state !== 'X'); // undefined: no /proc, kill(0) is all we know
}

export interface ReaperOptions {
  intervalMs: number;
  sessionIdleCloseMs: number;
  /** 0: never exit when idle. */
  idleExitMs: number;
  openSessions(): { sessionId: string; pid?: number | undefined; lastEventMs: number }[];
  closeSession(sessionId: string, reason: string, timeMs: number): void;
  evictEnded(beforeMs: number): void;
  spoolBacklog(): number;
  /** Takes the spooled events of these processes now; returns the pids of which some still wait
   *  (spool-drainer.ts takeNowFor). A session is closed as `process_exited` only when none does. */
  takeSpooledFor?(pids: readonly number[]): Set<number>;
  /** Spans held by the export buffer: while the endpoint is away the agent stays up and keeps them. */
  exportBacklog?(): number;
  onIdle(): void;
  log: Log;
  now?: () => number;
  isAlive?: (pid: number) => boolean;
}

export interface Reaper extends Component {
  /** Anything that counts as activity (an event in) pushes the idle exit back. */
  touch(): void;
  reap(): void;
}

export function createReaper(options: ReaperOptions): Reaper {
  const now = options.now ?? Date.now;
  const alive = options.isAlive ?? isAlive;
  let lastActivity = now();
  let stop: (() => void) | undefined;
  const reap = () => {
    const t = now();
    const open = options.openSessions();
    const gone = open.filter((s) => s.pid && !alive(s.pid));
    // A process writes its Stop and SessionEnd to the spool just before it ends, and the reaper may
    // look in between: its spooled events are taken first, and a session whose process still has
    // one waiting is left for the next round (closing it now would mark a session that ended well).
    let waiting = new Set<number>();
    let stillOpen = new Set(open.map((s) => s.sessionId));
    if (gone.length && options.takeSpooledFor) {
      try {
        waiting = options.takeSpooledFor(gone.map((s) => s.pid!));
        stillOpen = new Set(options.openSessions().map((s) => s.sessionId)); // the spool may have ended some
      } catch (err) {
        options.log(`reaper: taking the spool failed: ${(err as Error).message}`);
        waiting = new Set(gone.map((s) => s.pid!));
      }
    }
    const goneIds = new Set(gone.map((s) => s.sessionId));
    for (const s of open) {
      if (!stillOpen.has(s.sessionId)) continue;
      try {
        if (goneIds.has(s.sessionId)) {
          if (!waiting.has(s.pid!)) options.closeSession(s.sessionId, 'process_exited', t);
        } else if (t - s.lastEventMs > options.sessionIdleCloseMs) options.closeSession(s.sessionId, 'idle', t);
      } catch (err) {
        options.log(`reaper: closing session ${s.sessionId} failed: ${(err as Error).message}`); // the others are still reaped
      }
    }
    options.evictEnded(t - 3_600_000);
    if (options.idleExitMs > 0 && options.openSessions().length === 0 && options.spoolBacklog() === 0 && (options.exportBacklog?.() ?? 0) === 0 && t - lastActivity > options.idleExitMs) {
      options.onIdle();
    }
  };
  return {
    name: 'reaper',
    start() {
      stop ??= every(options.intervalMs, 'reaper', reap, options.log);
    },
    touch() {
      lastActivity = now();
    },
    reap,
    shutdown() {
      stop?.();
    },
  };
}
