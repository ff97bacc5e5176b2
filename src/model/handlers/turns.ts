/**
 * Turns: UserPromptSubmit opens one (keyed by prompt_id), Stop and StopFailure close it. Stop and
 * StopFailure that carry an agent_id end that subagent instead (an API error inside a subagent
 * sends StopFailure with its agent_id and no SubagentStop); the main turn goes on.
 * A prompt that arrives while the previous turn is open means Claude Code cut that turn short
 * (an interrupt sends no Stop): it closes as `interrupted`, which is not a gap.
 */
import { ATTR_ERROR_TYPE, CC } from '../attributes.js';
import { closeAgent, closeTurn, takeCause } from '../closing.js';
import type { Ctx, Handler } from '../emitter.js';
import { spanKeys } from '../ids.js';
import { openSegment, openSpan } from '../open-span.js';
import { agentSpanFor, contextParent, findTurn, keyOf, sessionEnded, turnFor } from '../owners.js';
import type { Attributes, StopEvent, StopFailureEvent, UserPromptSubmitEvent } from '../types.js';
import { pointEvent } from './point-events.js';
import { takeFailedCall } from './subagents.js';

export const userPromptSubmit: Handler<UserPromptSubmitEvent> = (ctx, ev) => {
  const { s } = ctx;
  const key = ev.promptId ?? spanKeys.gapTurn(ev.timeMs);
  if (s.closedTurns.has(key)) return pointEvent(ctx, ev, undefined); // a duplicate of a turn already closed
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
  // The bridge closed the run (its reaper took the session for idle) but the CLI goes on: a new segment.
  if (sessionEnded(s)) openSegment(s, ev, 'continued');
  for (const [oldKey, old] of [...s.turns]) {
    closeTurn(ctx, old, oldKey, ev.timeMs, { [CC.turnOutcome]: 'interrupted' }, undefined, 'interrupted');
  }
  attrs[CC.turnNumber] = ++s.turnCount;
  s.turns.set(key, openSpan(s, 'turn', ev.promptId ? spanKeys.turn(ev.promptId) : key, 'claude_code.turn', ev.timeMs, contextParent(s), attrs));
};

/** The turn a Stop closes; a Stop for a turn already closed (a duplicate) closes nothing. */
function stoppedTurn(ctx: Ctx, ev: StopEvent | StopFailureEvent) {
  if (ev.promptId && ctx.s.closedTurns.has(ev.promptId) && !findTurn(ctx.s, ev)) return undefined;
  return turnFor(ctx, ev);
}

export const stop: Handler<StopEvent> = (ctx, ev) => {
  if (ev.agentId) return closeAgent(ctx, agentSpanFor(ctx, ev, ev.agentId), ev.timeMs, { outcome: 'completed' });
  const turn = stoppedTurn(ctx, ev);
  if (!turn) return pointEvent(ctx, ev, undefined);
  ctx.s.lastTurnError = undefined;
  closeTurn(ctx, turn, keyOf(ctx.s, turn), ev.timeMs, { [CC.turnOutcome]: 'stop' });
};

export const stopFailure: Handler<StopFailureEvent> = (ctx, ev) => {
  const errorType = ev.error || 'stop_failure';
  if (ev.agentId) {
    const agent = ctx.s.agents.get(ev.agentId);
    if (agent && takeCause(ctx, agent, ev.timeMs, errorType)) return;
    if (agent?.finished || (!agent && ctx.s.closedAgents.has(ev.agentId))) return pointEvent(ctx, ev, undefined);
    const failedAt = agent ? takeFailedCall(ctx, agent) : undefined; // its Agent call failed first: it ended then
    return closeAgent(ctx, agent ?? agentSpanFor(ctx, ev, ev.agentId), Math.min(ev.timeMs, failedAt ?? Infinity), { outcome: 'stop_failure', errorType });
  }
  const turn = stoppedTurn(ctx, ev);
  if (!turn) return pointEvent(ctx, ev, undefined);
  ctx.s.lastTurnError = errorType;
  closeTurn(ctx, turn, keyOf(ctx.s, turn), ev.timeMs, { [CC.turnOutcome]: 'stop_failure', [ATTR_ERROR_TYPE]: errorType }, { code: 'error', message: errorType });
};
