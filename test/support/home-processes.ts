/**
 * Processes of this user started for a given CLAUDE_OTEL_HOME (found by their environment in
 * /proc): what a hook launched on its own (a detached agent) and a test must not leave running.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { waitFor } from './agent-harness.js';

export function processesOfHome(home: string): number[] {
  const needle = `\0CLAUDE_OTEL_HOME=${home}\0`;
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let environ: string;
    try {
      environ = `\0${readFileSync(`/proc/${name}/environ`, 'latin1')}`;
    } catch {
      continue; // gone, or not ours
    }
    if (!environ.includes(needle)) continue;
    try {
      const state = readFileSync(`/proc/${name}/stat`, 'latin1').split(') ')[1]?.[0];
      if (state === 'Z') continue; // exited, waiting to be reaped
    } catch {
      continue;
    }
    pids.push(Number(name));
  }
  return pids;
}

/** SIGTERM to each, then wait until they are gone (SIGKILL after 10 s). Returns the pids it found. */
export async function stopProcessesOfHome(home: string): Promise<number[]> {
  const pids = processesOfHome(home);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  if (pids.length) {
    await waitFor(() => processesOfHome(home).length === 0, 10_000, `processes of ${home} to exit`).catch(() => {
      for (const pid of processesOfHome(home)) process.kill(pid, 'SIGKILL');
    });
  }
  return pids;
}
