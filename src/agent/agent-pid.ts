/**
 * Which process is the agent of a home. `agent.pid` alone cannot say: after a kill -9 its pid may be
 * reused by an unrelated program, which then blocked every start (reliability review, finding 9).
 * So the agent claims the home with `agent.lock` = `<pid> <start time>` (field 22 of
 * /proc/<pid>/stat, clock ticks since boot): a pid whose start time differs is another process.
 * The claim is made before the agent listens and released when it stops or fails to start, and
 * `agent.pid` (the bare pid, for scripts) is written with it. A home with only an `agent.pid` (an
 * older agent) counts as running only if /proc/<pid>/cmdline runs `cli.js agent`.
 * Node built-ins only: the hook hot path imports it.
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { createFileExclusive, readPrivateFile, writeFileAtomic } from '../shared/home.js';

export class AgentAlreadyRunning extends Error {}

export interface PidFiles {
  pidFile: string;
  lockFile: string;
  agentInfo: string;
}

interface ProcStat {
  state: string;
  startTicks: string;
}

/** State and start time of a process from /proc; null: no such process; undefined: no /proc here. */
export function procStat(pid: number): ProcStat | null | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    try {
      readFileSync('/proc/self/stat');
    } catch {
      return undefined;
    }
    return null;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', startTicks: fields[19] ?? '' };
}

/** kill(0): the pid exists (EPERM: it does, owned by someone else). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function runsOurAgent(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.some((a, i) => /(^|\/)cli\.js$/.test(a) && argv[i + 1] === 'agent');
  } catch {
    return false;
  }
}

/** True when `pid` with start time `startTicks` is alive (not a zombie). */
export function sameProcessAlive(pid: number, startTicks: string | undefined): boolean {
  const stat = procStat(pid);
  if (stat === undefined) return processExists(pid); // no /proc: kill(0) is all we know
  if (stat === null || stat.state === 'Z' || stat.state === 'X') return false;
  return startTicks === undefined ? runsOurAgent(pid) : stat.startTicks === startTicks;
}

/** The claim of a home as written in agent.lock. */
export function readClaim(files: PidFiles): { pid: number; startTicks: string } | undefined {
  const [pid, startTicks] = (readPrivateFile(files.lockFile, 256)?.text ?? '').trim().split(/\s+/);
  return pid && /^\d+$/.test(pid) && startTicks ? { pid: Number(pid), startTicks } : undefined;
}

/** The pid of the live agent of this home, or undefined (none, or only a stale pid file). */
export function runningAgentPid(files: PidFiles): number | undefined {
  const claim = readClaim(files);
  if (claim) return sameProcessAlive(claim.pid, claim.startTicks) ? claim.pid : undefined;
  const legacy = Number(readPrivateFile(files.pidFile, 64)?.text.trim());
  return Number.isInteger(legacy) && legacy > 0 && sameProcessAlive(legacy, undefined) ? legacy : undefined;
}

export interface PidClaim {
  pid: number;
  /** Removes agent.lock, agent.pid and agent.json if they are still ours. */
  release(): void;
}

/** Claims the home for this process or throws AgentAlreadyRunning; stale claims are replaced. */
export function claimAgentPid(files: PidFiles, pid = process.pid): PidClaim {
  const self = procStat(pid);
  const startTicks = self ? self.startTicks : '0';
  for (let attempt = 0; ; attempt++) {
    if (createFileExclusive(files.lockFile, `${pid} ${startTicks}\n`)) break;
    const other = runningAgentPid(files);
    const claim = readClaim(files);
    if (claim?.pid === pid && claim.startTicks === startTicks) break; // ours already (in-process restart)
    if (other !== undefined && other !== pid) throw new AgentAlreadyRunning(`agent already running (pid ${other})`);
    if (attempt > 2) throw new AgentAlreadyRunning(`cannot claim ${files.lockFile}: another agent is starting`);
    try {
      unlinkSync(files.lockFile); // stale: its process is gone or is another program now
    } catch {
      /* raced with another start: try again */
    }
  }
  const legacy = Number(readPrivateFile(files.pidFile, 64)?.text.trim());
  if (Number.isInteger(legacy) && legacy > 0 && legacy !== pid && sameProcessAlive(legacy, undefined)) {
    unlinkSync(files.lockFile);
    throw new AgentAlreadyRunning(`agent already running (pid ${legacy})`);
  }
  writeFileAtomic(files.pidFile, `${pid}\n`);
  try {
    unlinkSync(files.agentInfo); // left by an agent that died: it does not listen, and we do not yet
  } catch {
    /* absent */
  }
  return {
    pid,
    release() {
      const claim = readClaim(files);
      if (claim && (claim.pid !== pid || claim.startTicks !== startTicks)) return;
      const stillOurs = Number(readPrivateFile(files.pidFile, 64)?.text.trim()) === pid;
      for (const f of stillOurs ? [files.agentInfo, files.pidFile, files.lockFile] : [files.lockFile]) {
        try {
          unlinkSync(f);
        } catch {
          /* absent */
        }
      }
    },
  };
}
