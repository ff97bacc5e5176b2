/**
 * Which transcript files the agent may read. A path comes from a hook payload, and anything that
 * can post to the agent's port (with its token) or drop a file in its spool can forge one: without
 * this check the agent could be made to read any file the user can read. So a path is accepted
 * only when
 *   - it is absolute, has no `..`, and lies under one of the allowed roots: Claude Code's
 *     `projects` directory (`$CLAUDE_CONFIG_DIR/projects`, else `~/.claude/projects`) or a root
 *     the user added in config (`modelCalls.transcriptRoots`);
 *   - it names this session: `<root>/<project>/<session_id>.jsonl` for the main transcript, and
 *     `<that dir>/<session_id>/subagents/agent-<agent_id>.jsonl` for a subagent's (this one is
 *     derived by us, never taken from the payload as such);
 *   - ids are safe file-name characters, and the file, checked with lstat, is a regular file (not a
 *     symlink) owned by the agent's user, whose real directory is the one named.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { SAFE_ID } from '../model/ids.js';

export type PathVerdict = { ok: true; path: string } | { ok: false; reason: 'not_absolute' | 'outside_roots' | 'wrong_name' | 'unsafe_id' | 'missing' | 'not_regular' | 'foreign_owner' };

export function defaultTranscriptRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  const configDir = env.CLAUDE_CONFIG_DIR || join(env.HOME || homedir(), '.claude');
  return [join(configDir, 'projects')];
}

/** A root without its trailing separators, normalized once (roots are few and fixed; paths come per event). */
const trimmedRoots = new Map<string, string>();
function trimmed(root: string): string {
  let r = trimmedRoots.get(root);
  if (r === undefined) {
    r = normalize(root).replace(/[/\\]+$/, '');
    if (trimmedRoots.size < 64) trimmedRoots.set(root, r);
  }
  return r;
}

function under(root: string, path: string): boolean {
  return path.startsWith(trimmed(root) + sep);
}

/** Checks the name only (no file system): the main transcript of `sessionId` under one of `roots`. */
export function mainTranscriptName(path: string, sessionId: string, roots: readonly string[]): PathVerdict {
  if (!isAbsolute(path) || path.split(/[/\\]/).includes('..')) return { ok: false, reason: 'not_absolute' };
  if (!SAFE_ID.test(sessionId)) return { ok: false, reason: 'unsafe_id' };
  const p = normalize(path);
  const root = roots.find((r) => under(r, p));
  if (!root) return { ok: false, reason: 'outside_roots' };
  // <root>/<project dir>/<session>.jsonl: exactly one directory level below the root.
  if (basename(p) !== `${sessionId}.jsonl` || normalize(dirname(dirname(p))) !== trimmed(root)) return { ok: false, reason: 'wrong_name' };
  return { ok: true, path: p };
}

/** The subagent transcript next to a (checked) main transcript. */
export function subagentTranscriptPath(mainPath: string, sessionId: string, agentId: string): PathVerdict {
  if (!SAFE_ID.test(agentId) || !SAFE_ID.test(sessionId)) return { ok: false, reason: 'unsafe_id' };
  return { ok: true, path: join(dirname(mainPath), sessionId, 'subagents', `agent-${agentId}.jsonl`) };
}

/** File-system checks: a regular file (lstat: no symlink), ours, really under one of the roots. */
export function checkTranscriptFile(path: string, roots: readonly string[], uid: number | undefined = process.getuid?.()): PathVerdict {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return { ok: false, reason: 'missing' };
  }
  if (!st.isFile()) return { ok: false, reason: 'not_regular' };
  if (uid !== undefined && st.uid !== uid) return { ok: false, reason: 'foreign_owner' };
  try {
    // A symlinked directory below the root would make the name lie about where the file is.
    const real = realpathSync(dirname(path));
    const inside = roots.some((root) => {
      try {
        const r = realpathSync(root);
        return real.startsWith(r + sep) && real.slice(r.length) === dirname(path).slice(normalize(root).replace(/[/\\]+$/, '').length);
      } catch {
        return false;
      }
    });
    if (!inside) return { ok: false, reason: 'outside_roots' };
  } catch {
    return { ok: false, reason: 'missing' };
  }
  return { ok: true, path };
}
