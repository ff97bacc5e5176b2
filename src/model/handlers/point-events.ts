/**
 * Point events (Notification, permission events, PostToolBatch, unknown and future events): a span
 * event on the span they belong to (see owners.ts `pointOwner`) and an OTel log record with the
 * same trace and span ids. After the session ended, only the log record (on the root's id).
 */
import { ATTR_GEN_AI_TOOL_CALL_ID, ATTR_GEN_AI_TOOL_NAME, ATTR_SESSION_ID, CC } from '../attributes.js';
import type { Ctx } from '../emitter.js';
import type { OpenSpan } from '../open-span.js';
import { pointOwner } from '../owners.js';
import type { Attributes, BridgeEvent } from '../types.js';

/** The optional fields a point event may carry, whatever its kind. */
function fields(ev: BridgeEvent): { toolName?: string | undefined; toolUseId?: string | undefined; reason?: string | undefined } {
  return ev as { toolName?: string; toolUseId?: string; reason?: string };
}

export function pointEvent({ s, out }: Ctx, ev: BridgeEvent, target: OpenSpan | undefined) {
  const span = target ?? pointOwner(s, ev);
  const { toolName, toolUseId, reason } = fields(ev);
  const attributes: Attributes = { ...(ev.details ?? {}) };
  if (typeof toolName === 'string') attributes[ATTR_GEN_AI_TOOL_NAME] = toolName;
  if (typeof toolUseId === 'string') attributes[ATTR_GEN_AI_TOOL_CALL_ID] = toolUseId;
  if (typeof reason === 'string') attributes[CC.reason] = reason;
  if (span) span.events.push({ name: `claude_code.${ev.name}`, timeMs: ev.timeMs, attributes });
  const logAttrs: Attributes = { ...attributes, [ATTR_SESSION_ID]: s.sessionId, [CC.hookEventName]: ev.name };
  if (ev.promptId) logAttrs[CC.promptId] = ev.promptId;
  out.log({
    timeMs: ev.timeMs, eventName: `claude_code.hook.${ev.name}`, severity: ev.name === 'PermissionDenied' ? 'WARN' : 'INFO',
    body: ev.name, attributes: logAttrs, traceId: s.traceId, spanId: span?.spanId ?? s.rootSpanId,
  });
}

export const pointEventHandler = (ctx: Ctx, ev: BridgeEvent) => pointEvent(ctx, ev, undefined);
