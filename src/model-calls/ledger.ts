/**
 * The usage ledger: tokens, cost and call counts summed per span id (the turn, the subagent and
 * the session root a model call belongs to), read by whoever closes those spans
 * (`usageFor(spanId)` + `usageAttributes`, see spans.ts). Span ids are derived (src/model/ids.ts),
 * so the ledger needs none of the trace builder's state. The session root's cost is Claude
 * Code's own `cost-state` total (cumulative over resumes) once the transcript states it, plus the
 * priced calls seen after it until the next one; before any, the sum of the priced calls. Entries are kept per session and dropped with it; the whole ledger is plain data, so the
 * agent persists it with the reader's offsets.
 */
import type { ModelCall } from './assembler.js';

export interface Usage {
  /** Uncached input tokens (Anthropic's `input_tokens`); the cache kinds are separate. */
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  /** Sum of the priced calls' cost, or Claude Code's own total on the root when it stated one. */
  costUsd: number;
  calls: number;
  /** Calls whose model has no price: their cost is not in costUsd. */
  unpriced: number;
  costSource: 'price_table' | 'claude_code';
}

export interface SessionLedger {
  sessionId: string;
  lastUpdateMs: number;
  spans: Record<string, Usage>;
  /** Claude Code's own session total (cost-state), when the transcript stated it. */
  claudeCodeCostUsd?: number;
  /** The root span id, whose cost the cost-state replaces. */
  rootSpanId: string;
}

export interface UsageLedger {
  /** Adds one priced (costUsd) or unpriced (undefined) call to each span id in `spanIds`. */
  add(call: ModelCall, costUsd: number | undefined, spanIds: readonly string[], rootSpanId: string, nowMs: number): void;
  /** Claude Code's own session total replaces the summed cost on the root. */
  setSessionCost(sessionId: string, rootSpanId: string, totalCostUsd: number, nowMs: number): void;
  usageFor(spanId: string): Usage | undefined;
  sessionCost(sessionId: string): number | undefined;
  /** Drops sessions not updated since `beforeMs`. */
  evict(beforeMs: number): number;
  snapshot(): SessionLedger[];
  restore(sessions: SessionLedger[]): void;
}

const empty = (): Usage => ({ inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0, costUsd: 0, calls: 0, unpriced: 0, costSource: 'price_table' });

export function createUsageLedger(): UsageLedger {
  const sessions = new Map<string, SessionLedger>();
  const spanSession = new Map<string, string>();

  const sessionOf = (sessionId: string, rootSpanId: string, nowMs: number): SessionLedger => {
    let s = sessions.get(sessionId);
    if (!s) {
      s = { sessionId, rootSpanId, lastUpdateMs: nowMs, spans: {} };
      sessions.set(sessionId, s);
    }
    s.lastUpdateMs = nowMs;
    return s;
  };

  return {
    add(call, costUsd, spanIds, rootSpanId, nowMs) {
      const s = sessionOf(call.sessionId, rootSpanId, nowMs);
      for (let i = 0; i < spanIds.length; i++) {
        const id = spanIds[i]!;
        if (spanIds.indexOf(id) < i) continue; // each span once (a few ids: no Set per call)
        let u = s.spans[id];
        if (!u) {
          u = s.spans[id] = empty();
          spanSession.set(id, s.sessionId);
        }
        u.inputTokens += call.usage.input;
        u.outputTokens += call.usage.output;
        u.cacheReadTokens += call.usage.cacheRead;
        u.cacheCreationTokens += call.usage.cacheCreation;
        u.calls++;
        if (costUsd === undefined) u.unpriced++;
        else u.costUsd += costUsd; // on the root: on top of the last cost-state, until the next one replaces it
      }
    },
    setSessionCost(sessionId, rootSpanId, totalCostUsd, nowMs) {
      const s = sessionOf(sessionId, rootSpanId, nowMs);
      s.claudeCodeCostUsd = totalCostUsd;
      const root = (s.spans[rootSpanId] ??= empty());
      spanSession.set(rootSpanId, sessionId);
      root.costUsd = totalCostUsd;
      root.costSource = 'claude_code';
    },
    usageFor(spanId) {
      const sessionId = spanSession.get(spanId);
      const u = sessionId ? sessions.get(sessionId)?.spans[spanId] : undefined;
      return u ? { ...u } : undefined;
    },
    sessionCost(sessionId) {
      const s = sessions.get(sessionId);
      return s ? s.spans[s.rootSpanId]?.costUsd : undefined;
    },
    evict(beforeMs) {
      let n = 0;
      for (const [id, s] of sessions) {
        if (s.lastUpdateMs >= beforeMs) continue;
        for (const spanId of Object.keys(s.spans)) spanSession.delete(spanId);
        sessions.delete(id);
        n++;
      }
      return n;
    },
    snapshot: () => [...sessions.values()].map((s) => structuredClone(s)),
    restore(saved) {
      for (const s of saved) {
        sessions.set(s.sessionId, structuredClone(s));
        for (const spanId of Object.keys(s.spans)) spanSession.set(spanId, s.sessionId);
      }
    },
  };
}
