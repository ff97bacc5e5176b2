/**
 * The agent's small files in its home: agent.pid (claimed before anything else, so two agents
 * never share a journal), agent.json (published once the agent listens: url, port, version),
 * clean-stop (written by a clean shutdown; its absence at start means the last run crashed) and
 * exported-seq (the export watermark). Every write goes to a fresh, exclusively created temporary
 * (O_EXCL: a planted symlink is never followed) and is renamed into place.
 */
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { writeFileAtomic } from '../shared/home.js';
import { AgentAlreadyRunning, claimAgentPid, type PidClaim } from './agent-pid.js';
import type { HomePaths } from './paths.js';

export { AgentAlreadyRunning };

/** A random temporary opened O_EXCL|O_NOFOLLOW, renamed into place (src/shared/home.ts). */
export const writeAtomic = (file: string, text: string) => writeFileAtomic(file, text);

export function readNumber(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

export interface ProcessFiles {
  /** Refuses when another live agent holds the home (agent.lock); then writes ours. */
  claim(): void;
  publish(info: { url: string; port: number; version: string }): void;
  /** True when the previous run stopped cleanly; removes the marker either way. */
  takeCleanStop(): boolean;
  markCleanStop(): void;
  /** Removes agent.pid and agent.json if they are still ours. */
  release(): void;
}

export function createProcessFiles(paths: HomePaths, pid = process.pid): ProcessFiles {
  let claim: PidClaim | undefined;
  return {
    claim() {
      claim = claimAgentPid(paths, pid); // agent.lock = pid + start time: a reused pid is not us (agent-pid.ts)
    },
    publish(info) {
      writeAtomic(paths.agentInfo, JSON.stringify({ pid, url: info.url, port: info.port, startedAt: new Date().toISOString(), version: info.version }));
    },
    takeCleanStop() {
      const clean = existsSync(paths.cleanStop);
      try {
        unlinkSync(paths.cleanStop);
      } catch {
        /* first start, or after a crash */
      }
      return clean;
    },
    markCleanStop() {
      writeAtomic(paths.cleanStop, `${new Date().toISOString()}\n`);
    },
    release() {
      claim?.release();
      claim = undefined;
    },
  };
}
