/**
 * A session's state, created by its first event: a root span (`missing_start` unless that event is
 * its SessionStart), or only a resumed segment when the first event is SessionStart(resume),
 * because an earlier run already wrote the root.
 */
import { spanIdFor, spanKeys, traceIdFor } from './ids.js';
import { openRoot, openSegment, type SessionState } from './open-span.js';
import { isEvent, type BridgeEvent } from './types.js';

export function newSession(ev: BridgeEvent): SessionState {
  const s: SessionState = {
    sessionId: ev.sessionId, traceId: traceIdFor(ev.sessionId), rootSpanId: spanIdFor(ev.sessionId, spanKeys.root()),
    rootEnded: false, turns: new Map(), closedTurns: new Map(), turnCount: 0, tools: new Map(), closedTools: new Set(),
    agents: new Map(), closedAgents: new Map(), launchedBy: new Map(), lastEventMs: ev.timeMs, toolErrors: 0,
  };
  if (isEvent(ev, 'SessionStart') && ev.source === 'resume') {
    s.rootEnded = true; // the root was written by an earlier run: only a segment opens
    openSegment(s, ev);
  } else openRoot(s, ev, ev.name === 'SessionStart' ? undefined : 'missing_start');
  return s;
}

/** Per-event bookkeeping: last activity, the sending process, whether http hooks feed it. */
export function touch(s: SessionState, ev: BridgeEvent) {
  s.lastEventMs = Math.max(s.lastEventMs, ev.timeMs);
  if (ev.pid) s.pid = ev.pid;
  if (ev.via === 'http') s.viaHttp = true;
}
