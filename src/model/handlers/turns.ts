/** Turns: UserPromptSubmit opens one (keyed by prompt_id), Stop and StopFailure close it. */
import { ATTR_ERROR_TYPE, CC } from '../attributes.js';
import { closeTurn } from '../closing.js';
import type { Handler } from '../emitter.js';
import { spanKeys } from '../ids.js';
import { openSpan } from '../open-span.js';
import { contextParent, keyOf, turnFor } from '../owners.js';
import type { Attributes, StopEvent, StopFailureEvent, UserPromptSubmitEvent } from '../types.js';

export const userPromptSubmit: Handler<UserPromptSubmitEvent> = (ctx, ev) => {
  const { s } = ctx;
  const key = ev.promptId ?? `gap-${ev.seq}`;
  const attrs: Attributes = {};
  if (ev.promptId) attrs[CC.promptId] = ev.promptId;
  if (ev.promptSize !== undefined) attrs[CC.promptSize] = ev.promptSize;
  if (ev.promptKind) attrs[CC.promptKind] = ev.promptKind;
  if (ev.prompt !== undefined) attrs[CC.prompt] = ev.prompt;
  const early = s.turns.get(key);
  if (early) {
    // A later event of this turn arrived first (two transports): the prompt completes the turn.
    if (early.attributes[CC.gap] === 'missing_start') {
      delete early.attributes[CC.gap];
      Object.assign(early.attributes, attrs, { [CC.turnNumber]: ++s.turnCount });
      early.startMs = Math.min(early.startMs, ev.timeMs);
    }
    return;
  }
  for (const [oldKey, old] of [...s.turns]) closeTurn(ctx, old, oldKey, ev.timeMs, { [CC.turnOutcome]: 'not_completed', [CC.gap]: 'missing_end' });
  attrs[CC.turnNumber] = ++s.turnCount;
  s.turns.set(key, openSpan(s, 'turn', ev.promptId ? spanKeys.turn(ev.promptId) : spanKeys.gapTurn(++s.gapTurns), 'claude_code.turn', ev.timeMs, contextParent(s), attrs));
};

export const stop: Handler<StopEvent> = (ctx, ev) => {
  ctx.s.lastTurnError = undefined;
  const turn = turnFor(ctx, ev);
  closeTurn(ctx, turn, keyOf(ctx.s, turn), ev.timeMs, { [CC.turnOutcome]: 'stop' });
};

export const stopFailure: Handler<StopFailureEvent> = (ctx, ev) => {
  const turn = turnFor(ctx, ev);
  const errorType = ev.error || 'stop_failure';
  ctx.s.lastTurnError = errorType;
  closeTurn(ctx, turn, keyOf(ctx.s, turn), ev.timeMs, { [CC.turnOutcome]: 'stop_failure', [ATTR_ERROR_TYPE]: errorType }, { code: 'error', message: errorType });
};
