/**
 * Correlation with Claude Code's own traces: the command hooks of UserPromptSubmit, PreToolUse,
 * PostToolUse and Stop get TRACEPARENT = the prompt's `claude_code.interaction` span when Claude
 * Code's native tracing is on. The first event of a turn that carries one (normally its
 * UserPromptSubmit) links our turn span to that span; a turn has one interaction, so one link.
 */
import { CC } from './attributes.js';
import { findTurn } from './owners.js';
import type { SessionState } from './open-span.js';
import type { BridgeEvent } from './types.js';

export const INTERACTION_LINK = 'claude_code.interaction';

export function linkInteraction(s: SessionState, ev: BridgeEvent): void {
  if (!ev.traceparent) return;
  const turn = findTurn(s, ev);
  if (!turn || turn.links?.length) return;
  const [, traceId, spanId, flags] = ev.traceparent.split('-');
  if (!traceId || !spanId || !flags) return;
  turn.links = [{ traceId, spanId, traceFlags: parseInt(flags, 16), attributes: { [CC.linkType]: INTERACTION_LINK } }];
}
