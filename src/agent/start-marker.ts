/**
 * The failed-start marker. While the agent cannot start (port held by another process, home
 * refused, journal unreadable, ...) a command hook that waited for it would cost seconds on every
 * event (reliability review, finding 1). So an agent that fails to start writes `agent.start-failed`
 * in the home (when, why, how many failures in a row, when to try again) and removes it once it
 * listens; hooks read it and do not wait while it exists, and start at most one attempt per back-off
 * interval (15 s doubling to 15 min), recorded in `agent.start-attempt`. `doctor` prints it.
 *
 * Format (two lines, read by bin/claude-otel-hook with `read`, so no JSON):
 *   <retry at, epoch s> <failures in a row> <failed at, epoch s> <code> <holder uid or ->
 *   <reason, one line>
 * Node built-ins only: the hook hot path imports it.
 */
import { unlinkSync } from 'node:fs';
import { readPrivateFile, writeFileAtomic } from '../shared/home.js';

export interface StartFailure {
  retryAtSec: number;
  failures: number;
  failedAtSec: number;
  /** A short machine code: EADDRINUSE, HOME_REFUSED, EACCES, ... */
  code: string;
  /** The uid of the process that holds the agent's port, when that is why. */
  holderUid?: number;
  reason: string;
}

export interface MarkerFiles {
  startFailed: string;
  startAttempt: string;
}

const BASE_SECONDS = 15;
const MAX_SECONDS = 900;

/** Seconds to wait after the n-th failure in a row: 15, 30, 60, ... up to 900. */
export function backoffSeconds(failures: number): number {
  return Math.min(MAX_SECONDS, BASE_SECONDS * 2 ** Math.max(0, Math.min(failures, 16) - 1));
}

export function readStartFailure(files: MarkerFiles): StartFailure | undefined {
  const read = readPrivateFile(files.startFailed, 64 * 1024);
  if (!read) return undefined;
  const [head = '', ...rest] = read.text.split('\n');
  const [retry, failures, failedAt, code, holder] = head.trim().split(/\s+/);
  const n = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);
  if (n(retry) === undefined || n(failures) === undefined || n(failedAt) === undefined) return undefined;
  const holderUid = n(holder);
  return {
    retryAtSec: n(retry)!, failures: n(failures)!, failedAtSec: n(failedAt)!, code: code ?? 'unknown',
    ...(holderUid !== undefined ? { holderUid } : {}),
    reason: rest.join(' ').trim(),
  };
}

/** Records one more failed start; returns what was written. */
export function recordStartFailure(files: MarkerFiles, failure: { code: string; reason: string; holderUid?: number | undefined }, nowMs = Date.now()): StartFailure {
  const previous = readStartFailure(files);
  const failures = (previous?.failures ?? 0) + 1;
  const failedAtSec = Math.floor(nowMs / 1000);
  const code = failure.code.replace(/\s+/g, '_') || 'unknown';
  const reason = failure.reason.replace(/\s+/g, ' ').trim().slice(0, 2000);
  const marker: StartFailure = {
    retryAtSec: failedAtSec + backoffSeconds(failures), failures, failedAtSec, code, reason,
    ...(failure.holderUid !== undefined ? { holderUid: failure.holderUid } : {}),
  };
  writeFileAtomic(files.startFailed, `${marker.retryAtSec} ${failures} ${failedAtSec} ${code} ${failure.holderUid ?? '-'}\n${reason}\n`);
  return marker;
}

/** The agent listens: hooks may wait for it again. */
export function clearStartFailure(files: MarkerFiles): void {
  for (const f of [files.startFailed, files.startAttempt]) {
    try {
      unlinkSync(f);
    } catch {
      /* absent */
    }
  }
}

/**
 * What a hook that found no running agent does: `wait` (no failure recorded: start it and give it a
 * moment to listen), `start` (the last start failed and its back-off is over: start one attempt, do
 * not wait), or `skip` (backing off, or another hook started an attempt in this interval).
 */
export function startDecision(files: MarkerFiles, nowMs = Date.now()): 'wait' | 'start' | 'skip' {
  const failure = readStartFailure(files);
  if (!failure) return 'wait';
  const now = Math.floor(nowMs / 1000);
  if (now < failure.retryAtSec) return 'skip';
  const last = Number(readPrivateFile(files.startAttempt, 64)?.text.trim());
  if (Number.isFinite(last) && now - last < backoffSeconds(failure.failures)) return 'skip';
  try {
    writeFileAtomic(files.startAttempt, `${now}\n`);
  } catch {
    return 'skip';
  }
  return 'start';
}

/** The marker's code, reason and holder uid for an error thrown by a failed start. */
export function startFailureOf(err: unknown): { code: string; reason: string; holderUid?: number } {
  const e = err as { name?: string; code?: string; message?: string; holder?: { uid?: number } } | undefined;
  const reason = e?.message ?? String(err);
  if (e?.name === 'PortHeld') return { code: 'EADDRINUSE', reason, ...(e.holder?.uid !== undefined ? { holderUid: e.holder.uid } : {}) };
  if (e?.name === 'HomeRefused') return { code: 'HOME_REFUSED', reason };
  return { code: typeof e?.code === 'string' ? e.code : 'ERROR', reason };
}
