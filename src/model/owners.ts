/**
 * Owner resolution: the span an event belongs to, found from the ids it carries (agent_id →
 * its subagent, prompt_id → its turn, tool_use_id → its tool) and the session's state, never from
 * "the latest open span". An owner that already closed is returned as a late owner (its span id,
 * exported); an owner whose opening event was lost is opened here, marked `missing_start`.
 */
import { ATTR_GEN_AI_AGENT_ID, ATTR_GEN_AI_AGENT_NAME, ATTR_GEN_AI_OPERATION_NAME, CC, GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT } from './attributes.js';
import { resolveAgentParent } from './agent-links.js';
import type { Ctx } from './emitter.js';
import { spanKeys } from './ids.js';
import { openSpan, type OpenAgent, type OpenSpan, type OpenTool, type SessionState } from './open-span.js';
import type { BridgeEvent } from './types.js';

/** A span that can own a child: open (`span`), or already exported (`late`, only its id is known). */
export interface Owner {
  spanId: string;
  span?: OpenSpan;
  late?: boolean;
}

/** Where turns go: the open resumed segment, else the root. */
export const contextParent = (s: SessionState) => s.segment?.spanId ?? s.rootSpanId;

/** The session's last run ended (SessionEnd or the reaper) and no new one started. */
export const sessionEnded = (s: SessionState) => s.rootEnded && !s.segment;

/** The open turn of the event's prompt_id; an event without one belongs to the run's only open turn. */
export function findTurn(s: SessionState, ev: BridgeEvent): OpenSpan | undefined {
  if (ev.promptId) return s.turns.get(ev.promptId);
  return s.turns.size === 1 ? [...s.turns.values()][0] : undefined;
}

/** The event's turn, opened with `missing_start` if its UserPromptSubmit was lost. */
export function turnFor(ctx: Ctx, ev: BridgeEvent): OpenSpan {
  const { s } = ctx;
  const open = findTurn(s, ev) ?? (ev.promptId ? undefined : [...s.turns.values()].at(-1));
  if (open) return open;
  const key = ev.promptId ? spanKeys.turn(ev.promptId) : spanKeys.gapTurn(ev.timeMs);
  const turn = openSpan(s, 'turn', key, 'claude_code.turn', ev.timeMs, contextParent(s), { [CC.gap]: 'missing_start' });
  if (ev.promptId) turn.attributes[CC.promptId] = ev.promptId;
  s.turns.set(ev.promptId ?? key, turn);
  return turn;
}

export function keyOf(s: SessionState, turn: OpenSpan): string {
  for (const [key, t] of s.turns) if (t === turn) return key;
  return '';
}

export function openAgent(ctx: Ctx, ev: BridgeEvent, agentId: string): OpenAgent {
  const { s } = ctx;
  const type = ev.agentType || 'subagent';
  const base = openSpan(s, 'subagent', spanKeys.agent(agentId), `invoke_agent ${type}`, ev.timeMs, undefined, {
    [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT, [ATTR_GEN_AI_AGENT_NAME]: type, [ATTR_GEN_AI_AGENT_ID]: agentId, [CC.agentType]: type,
  });
  const agent: OpenAgent = { ...base, agentId, parentConfirmed: false };
  if (ev.promptId) agent.promptId = ev.promptId;
  resolveAgentParent(s, agent, ev.agentType, () => turnFor(ctx, ev).spanId);
  s.agents.set(agentId, agent);
  return agent;
}

export function agentSpanFor(ctx: Ctx, ev: BridgeEvent, agentId: string): OpenAgent {
  const known = ctx.s.agents.get(agentId);
  if (known) return known;
  const agent = openAgent(ctx, ev, agentId);
  agent.attributes[CC.gap] = 'missing_start';
  return agent;
}

/** The owner of a tool (or skill command) event: its subagent, else its turn. */
export function toolOwner(ctx: Ctx, ev: BridgeEvent): Owner {
  const { s } = ctx;
  if (ev.agentId) {
    const agent = s.agents.get(ev.agentId);
    if (agent && !agent.finished) return { spanId: agent.spanId, span: agent };
    const closed = agent?.spanId ?? s.closedAgents.get(ev.agentId);
    if (closed) return { spanId: closed, late: true };
    if (sessionEnded(s)) return { spanId: s.rootSpanId, late: true };
    const opened = agentSpanFor(ctx, ev, ev.agentId);
    return { spanId: opened.spanId, span: opened };
  }
  const open = findTurn(s, ev);
  if (open) return { spanId: open.spanId, span: open };
  const closed = ev.promptId ? s.closedTurns.get(ev.promptId) : undefined;
  if (closed) return { spanId: closed, late: true };
  if (sessionEnded(s)) return { spanId: s.rootSpanId, late: true };
  const turn = turnFor(ctx, ev);
  return { spanId: turn.spanId, span: turn };
}

/** The span a point event concerns: its subagent, else its turn, else an open compaction, the run. */
export function pointOwner(s: SessionState, ev: BridgeEvent): OpenSpan | undefined {
  const agent = ev.agentId ? s.agents.get(ev.agentId) : undefined;
  if (agent && !agent.finished) return agent;
  return (ev.promptId ? s.turns.get(ev.promptId) : undefined) ?? s.compaction ?? s.segment ?? s.root;
}

/** A permission event without tool_use_id: the open tool of that name in the same agent (main or subagent). */
export function permissionTool(s: SessionState, toolName: string | undefined, agentId: string | undefined): OpenTool | undefined {
  return [...s.tools.values()].filter((t) => t.toolName === toolName && t.agentId === agentId && !t.skillCommand).at(-1);
}
