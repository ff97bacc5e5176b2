/**
 * `claude-otel uninstall --purge`: removes what the bridge keeps in its home (token, spool, store,
 * journal, quarantine, logs, pid files, web view token), only when asked. The user's config.json and
 * anything we did not write stay; the home itself goes only when nothing is left in it. A home that
 * is not ours (a link, another owner) is refused: nothing is removed. The running agent of the home
 * is stopped first (SIGTERM, as `kill` would), or nothing is removed.
 */
import { lstatSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { homeLayout, homePaths } from '../agent/paths.js';
import { readClaim, runningAgentPid, sameProcessAlive } from '../agent/agent-pid.js';
import { currentUid, temporaryOf } from '../shared/home.js';

export interface PurgePlan {
  home: string;
  /** Entries to remove (absolute paths), in the order they go. */
  remove: string[];
  /** Entries that stay (config.json, files we did not write). */
  keep: string[];
  /** Why nothing may be removed. */
  refused?: string;
  agentPid?: number;
}

/** The names of the home's entries that are the bridge's own: the top level of its layout. */
export function stateNames(home: string): Set<string> {
  const { dirs, files } = homeLayout(homePaths(home));
  return new Set([...dirs, ...files].filter((f) => dirname(f) === home).map((f) => basename(f)));
}

/** A temp file of ours left by a crash mid-write: temporaryName()'s, or the names earlier versions used (`<name>.<random>.tmp`, `<name>.tmp-<pid>-<random>`). */
function isTempOf(name: string, known: Set<string>): boolean {
  const owner = temporaryOf(name);
  if (owner !== undefined) return known.has(owner);
  if (!/\.tmp$|\.tmp-[\w-]+$/.test(name)) return false;
  for (const k of known) if (name.startsWith(`${k}.`)) return true;
  return false;
}

export function planPurge(home: string, userHome?: string): PurgePlan {
  if (resolve(home) === '/' || (userHome !== undefined && resolve(home) === resolve(userHome))) {
    return { home, remove: [], keep: [], refused: `CLAUDE_OTEL_HOME is ${home}, a directory that is not only ours: remove our files by hand` };
  }
  let stat;
  try {
    stat = lstatSync(home);
  } catch {
    return { home, remove: [], keep: [] };
  }
  if (stat.isSymbolicLink()) return { home, remove: [], keep: [], refused: `${home} is a symbolic link: not removing what it points to` };
  if (!stat.isDirectory()) return { home, remove: [], keep: [], refused: `${home} is not a directory` };
  if (stat.uid !== currentUid()) return { home, remove: [], keep: [], refused: `${home} is owned by uid ${stat.uid}, not by you` };
  const known = stateNames(home);
  const remove: string[] = [];
  const keep: string[] = [];
  for (const name of readdirSync(home).sort()) {
    (known.has(name) || isTempOf(name, known) ? remove : keep).push(join(home, name));
  }
  const pid = runningAgentPid(homePaths(home));
  return { home, remove, keep, ...(pid !== undefined ? { agentPid: pid } : {}) };
}

export interface PurgeResult {
  removed: string[];
  homeRemoved: boolean;
  stoppedAgent?: number;
}

export interface PurgeOptions {
  /** How long to wait for the agent to exit after SIGTERM. */
  stopTimeoutMs?: number;
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function applyPurge(plan: PurgePlan, options: PurgeOptions = {}): PurgeResult {
  if (plan.refused) throw new Error(plan.refused);
  let stoppedAgent: number | undefined;
  let current = plan;
  if (plan.agentPid !== undefined) {
    const pid = plan.agentPid;
    const paths = homePaths(plan.home);
    // Read before the signal: a quick agent removes its agent.lock as it stops.
    const claim = readClaim(paths);
    const startTicks = claim?.pid === pid ? claim.startTicks : undefined;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone already */
    }
    // Until the process is gone: a stopping agent still writes (clean-stop, the watermark). Gone
    // means not alive as that process: a zombie nobody reaped yet, or a pid reused, counts as gone.
    const deadline = Date.now() + (options.stopTimeoutMs ?? 10_000);
    while (sameProcessAlive(pid, startTicks) && Date.now() < deadline) sleep(100);
    if (runningAgentPid(paths) === pid) throw new Error(`the agent (pid ${pid}) did not stop; stop it and run again, nothing was removed`);
    stoppedAgent = pid;
    current = planPurge(plan.home); // what the agent wrote while stopping goes too
    if (current.refused) throw new Error(current.refused);
  }
  const removed: string[] = [];
  for (const path of current.remove) {
    rmSync(path, { recursive: true, force: true }); // a link is removed, never what it points to
    removed.push(path);
  }
  let homeRemoved = false;
  if (current.keep.length === 0) {
    try {
      rmdirSync(current.home); // only if empty: something written meanwhile stays
      homeRemoved = true;
    } catch {
      /* not empty */
    }
  }
  return { removed, homeRemoved, ...(stoppedAgent !== undefined ? { stoppedAgent } : {}) };
}
