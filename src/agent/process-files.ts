/**
 * The agent's small files in its home: agent.pid (claimed before anything else, so two agents
 * never share a journal), agent.json (published once the agent listens: url, port, version),
 * clean-stop (written by a clean shutdown; its absence at start means the last run crashed) and
 * exported-seq (the export watermark). Every write goes to a fresh, exclusively created temporary
 * (O_EXCL: a planted symlink is never followed) and is renamed into place.
 */
import { existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { HomePaths } from './paths.js';
import { isAlive } from './reaper.js';

export class AgentAlreadyRunning extends Error {}

export function writeAtomic(file: string, text: string) {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* not created */
    }
    throw err;
  }
}

export function readNumber(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

export interface ProcessFiles {
  /** Refuses when another live agent holds agent.pid; then writes ours. */
  claim(): void;
  publish(info: { url: string; port: number; version: string }): void;
  /** True when the previous run stopped cleanly; removes the marker either way. */
  takeCleanStop(): boolean;
  markCleanStop(): void;
  /** Removes agent.pid and agent.json if they are still ours. */
  release(): void;
}

export function createProcessFiles(paths: HomePaths, pid = process.pid): ProcessFiles {
  let claimed = false;
  return {
    claim() {
      const running = readNumber(paths.pidFile);
      if (running && running !== pid && isAlive(running)) throw new AgentAlreadyRunning(`agent already running (pid ${running})`);
      writeAtomic(paths.pidFile, `${pid}\n`);
      claimed = true;
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
      if (!claimed || readNumber(paths.pidFile) !== pid) return;
      for (const f of [paths.pidFile, paths.agentInfo]) {
        try {
          unlinkSync(f);
        } catch {
          /* gone */
        }
      }
      claimed = false;
    },
  };
}
