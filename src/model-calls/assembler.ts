/**
 * Transcript entries (in file order) → model calls. Claude Code writes one `assistant` row per
 * content block of a response, all with the same message id, so a call is the group of rows of one
 * message id; it is complete once something else follows it (a user row with the tool results,
 * the next request, another message) or when the caller flushes at the end of a turn. Pure and
 * serializable: the state of one transcript is a small object the agent persists with the
 * reader's offset, so a restart neither loses a call that was half read nor emits one twice.
 */
import type { RowUsage, TranscriptEntry } from './records.js';

export interface ModelCall {
  sessionId: string;
  responseId: string;
  /** The turn (prompt) it belongs to, from the user rows before it; subagent rows carry it too. */
  promptId?: string;
  /** Set when a subagent made the call (its transcript, or rows with agentId). */
  agentId?: string;
  requestModel?: string;
  responseModel?: string;
  finishReason?: string;
  startMs: number;
  endMs: number;
  usage: RowUsage;
  toolUseIds: string[];
  /** Content blocks, only collected when content capture is on. */
  content?: unknown[];
}

export interface AssemblerState {
  sessionId: string;
  agentId?: string;
  promptId?: string;
  lastTimeMs?: number;
  /** Send times of recent api-request records, by id (bounded). */
  requests: [string, number][];
  pending: ModelCall[];
}

export interface AssembleCounters {
  /** Records of types this code does not use, by type (bounded number of keys). */
  otherTypes: Record<string, number>;
  /** Synthetic assistant rows (API errors Claude Code wrote itself): not model responses. */
  apiErrors: number;
}

export interface AssembleOutput {
  calls: ModelCall[];
}

const MAX_REQUESTS = 64;
const MAX_TYPE_KEYS = 100;

export function newAssemblerState(sessionId: string, agentId?: string): AssemblerState {
  return agentId ? { sessionId, agentId, requests: [], pending: [] } : { sessionId, requests: [], pending: [] };
}

const maxUsage = (a: RowUsage, b: RowUsage): RowUsage => ({
  input: Math.max(a.input, b.input),
  output: Math.max(a.output, b.output),
  cacheRead: Math.max(a.cacheRead, b.cacheRead),
  cacheCreation: Math.max(a.cacheCreation, b.cacheCreation),
  cacheCreation1h: Math.max(a.cacheCreation1h, b.cacheCreation1h),
});

/** Applies one entry; completed calls and cost states are appended to `out`. */
export function assemble(state: AssemblerState, entry: TranscriptEntry, out: AssembleOutput, counters: AssembleCounters, keepContent: boolean): void {
  switch (entry.kind) {
    case 'user':
      flush(state, out);
      if (entry.promptId) state.promptId = entry.promptId;
      if (entry.timeMs !== undefined) state.lastTimeMs = entry.timeMs;
      return;
    case 'api-request':
      flush(state, out);
      state.requests.push([entry.id, entry.timeMs]);
      if (state.requests.length > MAX_REQUESTS) state.requests.splice(0, state.requests.length - MAX_REQUESTS);
      state.lastTimeMs = entry.timeMs;
      return;
    case 'cost-state':
      return; // session totals, not a call: the processor hands them to the ledger
    case 'other': {
      const key = entry.type in counters.otherTypes || Object.keys(counters.otherTypes).length < MAX_TYPE_KEYS ? entry.type : '(more)';
      counters.otherTypes[key] = (counters.otherTypes[key] ?? 0) + 1;
      return;
    }
    case 'assistant': {
      if (entry.synthetic) {
        counters.apiErrors++;
        state.lastTimeMs = entry.timeMs;
        return;
      }
      let call = state.pending.find((c) => c.responseId === entry.responseId);
      if (!call) {
        flush(state, out); // a new response: the previous one is complete
        const sent = entry.requestRef ? state.requests.find(([id]) => id === entry.requestRef)?.[1] : undefined;
        call = { sessionId: state.sessionId, responseId: entry.responseId, startMs: Math.min(sent ?? state.lastTimeMs ?? entry.timeMs, entry.timeMs), endMs: entry.timeMs, usage: entry.usage, toolUseIds: [] };
        const agentId = entry.agentId ?? state.agentId;
        if (agentId) call.agentId = agentId;
        if (state.promptId) call.promptId = state.promptId;
        if (keepContent) call.content = [];
        state.pending.push(call);
      }
      call.endMs = Math.max(call.endMs, entry.timeMs);
      call.usage = maxUsage(call.usage, entry.usage);
      if (entry.requestedModel) call.requestModel = entry.requestedModel;
      if (entry.model) call.responseModel = entry.model;
      if (entry.stopReason) call.finishReason = entry.stopReason;
      for (const id of entry.toolUseIds) if (!call.toolUseIds.includes(id)) call.toolUseIds.push(id);
      if (call.content) call.content.push(...entry.content);
      state.lastTimeMs = entry.timeMs;
      return;
    }
  }
}

/** Completes every pending call (end of turn, subagent stop, session end). */
export function flush(state: AssemblerState, out: AssembleOutput): void {
  if (state.pending.length === 0) return;
  out.calls.push(...state.pending);
  state.pending = [];
}
