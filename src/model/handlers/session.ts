/** SessionStart and SessionEnd: the root span, resumed segments, and closing a whole session. */
import { CC } from '../attributes.js';
import { endSession } from '../closing.js';
import type { Handler } from '../emitter.js';
import { finish, openSegment } from '../open-span.js';
import type { SessionEndEvent, SessionStartEvent } from '../types.js';
import { pointEvent } from './point-events.js';

export const sessionStart: Handler<SessionStartEvent> = (ctx, ev) => {
  const { s } = ctx;
  if (ev.source === 'resume' || s.rootEnded) {
    if (s.segment) ctx.out.span(finish(s.segment, ev.timeMs, { [CC.gap]: 'missing_end' }));
    openSegment(s, ev);
    return;
  }
  pointEvent(ctx, ev, s.compaction ?? s.root);
};

export const sessionEnd: Handler<SessionEndEvent> = (ctx, ev) => {
  endSession(ctx, ev.timeMs, ev.reason ? { [CC.sessionEndReason]: ev.reason } : {}, false);
};
