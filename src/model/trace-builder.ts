/**
 * Where a hook event becomes spans. Pure: time and ids come from the event and its session, no I/O.
 * `apply(event)` dispatches on the event name to one handler (src/model/handlers/) and returns what
 * it produced: the spans that closed, the log records, and how many spans are gap-marked.
 * See docs/trace-model.md for the model and its attributes.
 */
import { endSession } from './closing.js';
import { createCollector, type Ctx, type Handler } from './emitter.js';
import { compactionHandlers } from './handlers/compaction.js';
import { pointEventHandler } from './handlers/point-events.js';
import { sessionEnd, sessionStart } from './handlers/session.js';
import { preSkillShellCommand } from './handlers/skill-shell.js';
import { subagentStart, subagentStop } from './handlers/subagents.js';
import { permissionDenied, permissionRequest, postToolBatch, postToolUse, preToolUse } from './handlers/tools.js';
import { stop, stopFailure, userPromptSubmit } from './handlers/turns.js';
import type { SessionState } from './open-span.js';
import { markOutage } from './outage.js';
import { newSession, touch } from './session-state.js';
import type { Categorize } from './tool-close.js';
import type { ApplyResult, BridgeEvent, EventOf, KnownEventName } from './types.js';
import { linkInteraction } from './interaction-link.js';

export interface TraceBuilderOptions {
  categorize?: Categorize;
}

const table: { [N in KnownEventName]: Handler<EventOf<N>> } = {
  SessionStart: sessionStart, SessionEnd: sessionEnd,
  UserPromptSubmit: userPromptSubmit, Stop: stop, StopFailure: stopFailure,
  PreToolUse: preToolUse, PostToolUse: postToolUse, PostToolUseFailure: postToolUse, PostToolBatch: postToolBatch,
  PermissionRequest: permissionRequest, PermissionDenied: permissionDenied, Notification: pointEventHandler,
  SubagentStart: subagentStart, SubagentStop: subagentStop,
  ...compactionHandlers,
  PreSkillShellCommand: preSkillShellCommand,
};
/** A Map, so that an event named like an Object.prototype key (`__proto__`, `toString`) finds no handler. */
const handlers: ReadonlyMap<string, Handler<BridgeEvent>> = new Map(Object.entries(table) as [string, Handler<BridgeEvent>][]);

export function createTraceBuilder(options: TraceBuilderOptions = {}) {
  const sessions = new Map<string, SessionState>();
  const counters = { gaps: 0 };
  const finish = (result: ApplyResult): ApplyResult => {
    counters.gaps += result.gaps;
    return result;
  };

  return {
    /** Applies one event; returns the spans it closed, the log records it produced, its gap count. */
    apply(ev: BridgeEvent): ApplyResult {
      const out = createCollector(ev.seq);
      let s = sessions.get(ev.sessionId);
      const opensSession = !s;
      if (!s) sessions.set(ev.sessionId, (s = newSession(ev)));
      touch(s, ev);
      if (opensSession && ev.name === 'SessionStart') return finish(out.result()); // newSession opened its root or segment
      const ctx: Ctx = { s, out, categorize: options.categorize };
      const handler = ev.known ? handlers.get(ev.name) : undefined;
      linkInteraction(s, ev); // before: a Stop closes the turn it names
      (handler ?? pointEventHandler)(ctx, ev);
      if (ev.name === 'UserPromptSubmit') linkInteraction(s, ev); // after: it opened the turn
      return finish(out.result());
    },
    /** Closes everything a session still holds open (its process is gone, or it idled out). */
    closeSession(sessionId: string, reason: string, atMs: number, atSeq: number): ApplyResult {
      const out = createCollector(atSeq);
      const s = sessions.get(sessionId);
      if (s && (!s.rootEnded || s.segment)) endSession({ s, out, categorize: options.categorize }, atMs, { 'claude_code.session.end_reason': `bridge:${reason}` }, true);
      return finish(out.result());
    },
    /** After an unclean agent stop: marks the outage on open http-fed sessions (see outage.ts); returns the marks. */
    markOutage(atMs: number): number {
      const marked = markOutage(sessions.values(), atMs);
      counters.gaps += marked;
      return marked;
    },
    /** Forgets sessions that ended before `beforeMs` (late events then start a gap-marked span). */
    evictEnded(beforeMs: number) {
      for (const [id, s] of sessions) if (s.endedAtMs !== undefined && s.endedAtMs < beforeMs && s.lastEventMs < beforeMs) sessions.delete(id);
    },
    sessions: () => sessions as ReadonlyMap<string, SessionState>,
    /** Sessions with an open root or resumed segment (ended ones are kept a while for late events). */
    openSessions: (): SessionState[] => [...sessions.values()].filter((s) => s.root || s.segment),
    openSpanCount(): number {
      let n = 0;
      for (const s of sessions.values()) n += (s.root ? 1 : 0) + (s.segment ? 1 : 0) + (s.compaction ? 1 : 0) + s.turns.size + s.tools.size + s.agents.size;
      return n;
    },
    /** Read model for status: gap marks produced since this builder started (apply's results add up to it). */
    counters: counters as { readonly gaps: number },
  };
}

export type TraceBuilder = ReturnType<typeof createTraceBuilder>;
