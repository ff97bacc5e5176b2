/**
 * Derived trace and span ids. A span's id is a function of its session and its key, so replaying
 * the journal after a crash, or a late event, always names the same span.
 */
import * as crypto from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INVALID_TRACE = '0'.repeat(32);
const INVALID_SPAN = '0'.repeat(16);

/**
 * One-shot hashing: no Hash object per id (half the cost of createHash for these short inputs).
 * crypto.hash is Node 20.12+; on the older 20.x that package.json still allows, createHash.
 */
const sha256Hex: (text: string) => string = typeof crypto.hash === 'function'
  ? (text) => crypto.hash('sha256', text, 'hex')
  : (text) => crypto.createHash('sha256').update(text).digest('hex');

/** The session's trace id: its UUID digits when it is a UUID (so a session id finds its trace). */
export function traceIdFor(sessionId: string): string {
  const id = UUID.test(sessionId) ? sessionId.replace(/-/g, '').toLowerCase() : sha256Hex(sessionId).slice(0, 32);
  return id === INVALID_TRACE ? sha256Hex(`trace:${sessionId}`).slice(0, 32) : id;
}

export function spanIdFor(sessionId: string, key: string): string {
  const id = sha256Hex(`${sessionId}/${key}`).slice(0, 16);
  return id === INVALID_SPAN ? sha256Hex(`span:${sessionId}/${key}`).slice(0, 16) : id;
}

export const spanKeys = {
  root: () => 'root',
  turn: (promptId: string) => `turn/${promptId}`,
  tool: (toolUseId: string) => `tool/${toolUseId}`,
  agent: (agentId: string) => `agent/${agentId}`,
  /** Spans without an id of their own are keyed by the receipt time of the event that opened them:
   *  the journal keeps it, so a replay, a restart or a resume a week later derives the same id, and
   *  two runs of one session never share one (per-process counters would: `resume/1` twice). */
  compaction: (openedAtMs: number) => `compact/t${openedAtMs}`,
  resume: (openedAtMs: number) => `resume/t${openedAtMs}`,
  gapTurn: (openedAtMs: number) => `gap-turn/t${openedAtMs}`,
  /** One model response (`chat` span), by its message id (src/model-calls). */
  chat: (responseId: string) => `chat/${responseId}`,
};

/** Ids that may reach the file system (session ids in file names). */
export const SAFE_ID = /^[A-Za-z0-9_-]{1,200}$/;
