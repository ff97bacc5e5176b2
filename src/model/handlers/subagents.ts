/**
 * Subagents: SubagentStart opens `invoke_agent {agent_type}`, SubagentStop closes it; the Agent
 * tool's PostToolUse confirms which call launched it (see agent-links.ts).
 */
import { ATTR_GEN_AI_AGENT_ID, CC } from '../attributes.js';
import { confirmAgentParent } from '../agent-links.js';
import { closeAgent, closeLaunched, emitAgentIfReady } from '../closing.js';
import type { Ctx, Handler } from '../emitter.js';
import { spanIdFor, spanKeys } from '../ids.js';
import type { OpenAgent, OpenTool } from '../open-span.js';
import { agentSpanFor, openAgent } from '../owners.js';
import type { PostToolUseEvent, PostToolUseFailureEvent, SubagentStartEvent, SubagentStopEvent } from '../types.js';
import { pointEvent } from './point-events.js';

export const subagentStart: Handler<SubagentStartEvent> = (ctx, ev) => {
  const { s } = ctx;
  if (!ev.agentId || s.agents.has(ev.agentId)) return;
  const agent = openAgent(ctx, ev, ev.agentId);
  const launcher = s.launchedBy.get(ev.agentId);
  if (launcher) confirmAgentParent(s, agent, launcher.toolUseId, spanIdFor(s.sessionId, spanKeys.tool(launcher.toolUseId)), launcher.background);
};

export const subagentStop: Handler<SubagentStopEvent> = (ctx, ev) => {
  const { s } = ctx;
  if (!ev.agentId) return;
  const agent = s.agents.get(ev.agentId);
  if (!agent && !ev.agentType) return pointEvent(ctx, ev, s.compaction ?? s.segment ?? s.root); // compaction fork: no SubagentStart
  if (agent?.finished || (!agent && s.closedAgents.has(ev.agentId))) return; // already ended (StopFailure, its Agent call)
  closeAgent(ctx, agent ?? agentSpanFor(ctx, ev, ev.agentId), ev.timeMs, { outcome: 'completed' });
};

/** The Agent call's Post event names the agent it launched: confirms (or corrects) the link. */
export function linkAgentCall(ctx: Ctx, tool: OpenTool, ev: PostToolUseEvent | PostToolUseFailureEvent) {
  const { s } = ctx;
  const agentId = ev.name === 'PostToolUse' ? ev.launchedAgentId : undefined;
  if (agentId && ev.name === 'PostToolUse') {
    const background = tool.background === true || ev.responseStatus === 'async_launched';
    s.launchedBy.set(agentId, { toolUseId: tool.toolUseId, background });
    tool.attributes[ATTR_GEN_AI_AGENT_ID] = agentId;
    const agent = s.agents.get(agentId);
    if (agent) {
      confirmAgentParent(s, agent, tool.toolUseId, tool.spanId, background);
      emitAgentIfReady(ctx, agent, false);
    }
  }
  // The call returned: the agent guessed for it is taken as its own, except after a failure, which
  // names no agent (failAgentCall waits for the StopFailure that does).
  const failed = ev.name === 'PostToolUseFailure' && !ev.isInterrupt;
  for (const agent of failed ? [] : [...s.agents.values()]) {
    if (agent.parentToolUseId === tool.toolUseId && !agent.parentConfirmed) {
      agent.parentConfirmed = true;
      emitAgentIfReady(ctx, agent, false);
    }
  }
  // A foreground subagent still open when its Agent call returns ends with it.
  if (ev.name === 'PostToolUse') closeLaunched(ctx, tool, ev.timeMs, { outcome: 'not_completed', gap: true });
  else if (ev.isInterrupt) closeLaunched(ctx, tool, ev.timeMs, { outcome: 'interrupted' });
  else failAgentCall(ctx, tool, ev.timeMs);
}

/**
 * A failed Agent call names no agent. Its subagent is the one whose StopFailure (by agent_id) says
 * so: if one already came, that agent is linked to this call; if the link is only the guess made at
 * SubagentStart (parallel calls can start in either order), nothing is ended on the guess: the call
 * waits for the StopFailure (stopFailure → takeFailedCall), or its turn's end (settleFailedCalls).
 */
function failAgentCall(ctx: Ctx, tool: OpenTool, endMs: number) {
  const { s } = ctx;
  const failedAgents = [...s.agents.values()].filter((a) => a.finished && !a.parentConfirmed && a.finished.attributes[CC.agentOutcome] === 'stop_failure');
  const failed = failedAgents.find((a) => a.parentToolUseId === tool.toolUseId) ?? failedAgents[0];
  if (failed) {
    confirmAgentParent(s, failed, tool.toolUseId, tool.spanId, false);
    emitAgentIfReady(ctx, failed, false);
    return;
  }
  const guessed = [...s.agents.values()].some((a) => a.parentToolUseId === tool.toolUseId && !a.finished && !a.parentConfirmed);
  if (!guessed) return closeLaunched(ctx, tool, endMs, { outcome: 'error', errorType: 'tool_error', awaitCause: true });
  (s.failedAgentCalls ??= new Map()).set(tool.toolUseId, endMs);
}

/** The StopFailure of an open subagent while a failed Agent call waits for its agent: that call launched it. */
export function takeFailedCall(ctx: Ctx, agent: OpenAgent): number | undefined {
  const { s } = ctx;
  if (agent.parentConfirmed || !s.failedAgentCalls?.size) return undefined;
  const toolUseId = s.failedAgentCalls.has(agent.parentToolUseId ?? '') ? agent.parentToolUseId! : s.failedAgentCalls.keys().next().value!;
  const endMs = s.failedAgentCalls.get(toolUseId)!;
  s.failedAgentCalls.delete(toolUseId);
  confirmAgentParent(s, agent, toolUseId, spanIdFor(s.sessionId, spanKeys.tool(toolUseId)), false);
  return endMs;
}
