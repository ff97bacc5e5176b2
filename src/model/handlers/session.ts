/**
 * SessionStart and SessionEnd: the root span, resumed segments, and closing a whole session.
 * SessionStart's `source` says what it is: `resume` starts a new run of the CLI (a segment under
 * the root an earlier run wrote), `compact` is part of a compaction (never a new segment), and
 * `startup`/`clear` open the root, or a segment when the root was already written.
 */
import { CC } from '../attributes.js';
import { endSession } from '../closing.js';
import type { Handler } from '../emitter.js';
import { openSegment } from '../open-span.js';
import type { SessionEndEvent, SessionStartEvent } from '../types.js';
import { pointEvent } from './point-events.js';

export const sessionStart: Handler<SessionStartEvent> = (ctx, ev) => {
  const { s } = ctx;
  if (ev.source === 'compact') return pointEvent(ctx, ev, s.compaction ?? s.segment ?? s.root);
  if (ev.source === 'resume' || s.rootEnded) {
    // The run before ended without a SessionEnd (its process died): the bridge closes it.
    if (s.segment || s.root) endSession(ctx, ev.timeMs, {}, true);
    openSegment(s, ev);
    return;
  }
  pointEvent(ctx, ev, s.compaction ?? s.root);
};

export const sessionEnd: Handler<SessionEndEvent> = (ctx, ev) => {
  if (ctx.s.rootEnded && !ctx.s.segment) return pointEvent(ctx, ev, undefined); // a second SessionEnd
  endSession(ctx, ev.timeMs, ev.reason ? { [CC.sessionEndReason]: ev.reason } : {}, false);
};
