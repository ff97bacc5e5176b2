import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileKeyOfName, sessionFileName } from './session-key.js';

export interface PruneOptions {
  dir: string;
  maxBytes: number;
  maxAgeHours: number;
  /** Epoch milliseconds. */
  now: number;
  /** File keys never deleted (the sessions being written right now). */
  keep?: ReadonlySet<string>;
}

export interface PruneResult {
  /** File keys deleted, oldest first. */
  deleted: string[];
  /** Bytes left in session files. */
  totalBytes: number;
  /** mtime (epoch ms) of the oldest file left, if any. */
  oldestMtimeMs?: number;
  files: number;
}

interface FileInfo {
  key: string;
  size: number;
  mtimeMs: number;
}

/**
 * Deletes session files older than maxAgeHours (by mtime, i.e. last write), then the
 * least recently written ones until the total is within maxBytes. Files in `keep` survive
 * both rules, so a single session larger than maxBytes is kept until it goes quiet.
 */
export async function pruneStore(options: PruneOptions): Promise<PruneResult> {
  const { dir, maxBytes, maxAgeHours, now } = options;
  const keep = options.keep ?? new Set<string>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return { deleted: [], totalBytes: 0, files: 0 };
    throw err;
  }
  const files: FileInfo[] = [];
  for (const name of names) {
    const key = fileKeyOfName(name);
    if (key === undefined) continue;
    try {
      const st = await stat(join(dir, name));
      if (st.isFile()) files.push({ key, size: st.size, mtimeMs: st.mtimeMs });
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
  }
  files.sort((a, b) => a.mtimeMs - b.mtimeMs || a.key.localeCompare(b.key));

  const cutoff = now - maxAgeHours * 3_600_000;
  let total = files.reduce((sum, f) => sum + f.size, 0);
  const deleted: string[] = [];
  const left: FileInfo[] = [];
  for (const f of files) {
    const tooOld = maxAgeHours > 0 && f.mtimeMs < cutoff;
    const tooBig = maxBytes > 0 && total > maxBytes;
    if ((tooOld || tooBig) && !keep.has(f.key)) {
      await removeQuietly(join(dir, sessionFileName(f.key)));
      total -= f.size;
      deleted.push(f.key);
    } else {
      left.push(f);
    }
  }
  const result: PruneResult = { deleted, totalBytes: total, files: left.length };
  if (left[0]) result.oldestMtimeMs = left[0].mtimeMs;
  return result;
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
