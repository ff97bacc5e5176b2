/**
 * Owner lookup: which open span an event belongs to (its turn, its subagent, its tool), found by
 * the ids the event carries. When the owner's opening event was lost, the owner is opened here,
 * marked `missing_start`, so the event still lands in one rooted tree.
 */
import { ATTR_GEN_AI_AGENT_ID, ATTR_GEN_AI_AGENT_NAME, ATTR_GEN_AI_OPERATION_NAME, CC, GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT } from './attributes.js';
import { resolveAgentParent } from './agent-links.js';
import type { Ctx } from './emitter.js';
import { spanKeys } from './ids.js';
import { openSpan, type OpenAgent, type OpenSpan, type OpenTool, type SessionState } from './open-span.js';
import type { BridgeEvent } from './types.js';

/** Where turns go: the open resumed segment, else the root. */
export const contextParent = (s: SessionState) => s.segment?.spanId ?? s.rootSpanId;

export function turnFor({ s }: Ctx, ev: BridgeEvent): OpenSpan {
  const byPrompt = ev.promptId ? s.turns.get(ev.promptId) : undefined;
  if (byPrompt) return byPrompt;
  if (!ev.promptId) {
    const latest = [...s.turns.values()].at(-1);
    if (latest) return latest;
  }
  const key = ev.promptId ? spanKeys.turn(ev.promptId) : spanKeys.gapTurn(++s.gapTurns);
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

/** The most specific open span for a point event without a tool: its turn, compaction, segment or root. */
export function turnOrRoot(s: SessionState, ev: BridgeEvent): OpenSpan | undefined {
  return (ev.promptId ? s.turns.get(ev.promptId) : undefined) ?? s.compaction ?? [...s.turns.values()].at(-1) ?? s.segment ?? s.root;
}

export function latestTool(s: SessionState, toolName: string | undefined): OpenTool | undefined {
  return [...s.tools.values()].filter((t) => t.toolName === toolName).at(-1);
}
