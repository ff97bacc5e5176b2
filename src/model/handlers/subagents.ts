/**
 * Subagents: SubagentStart opens `invoke_agent {agent_type}`, SubagentStop closes it; the Agent
 * tool's PostToolUse confirms which call launched it (see agent-links.ts).
 */
import { ATTR_GEN_AI_AGENT_ID } from '../attributes.js';
import { confirmAgentParent } from '../agent-links.js';
import { closeAgent, closeLaunched, emitAgentIfReady } from '../closing.js';
import type { Ctx, Handler } from '../emitter.js';
import { spanIdFor, spanKeys } from '../ids.js';
import type { OpenTool } from '../open-span.js';
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
  for (const agent of [...s.agents.values()]) {
    if (agent.parentToolUseId === tool.toolUseId && !agent.parentConfirmed) {
      agent.parentConfirmed = true;
      emitAgentIfReady(ctx, agent, false);
    }
  }
  // A foreground subagent still open when its Agent call returns ends with it.
  if (ev.name === 'PostToolUse') closeLaunched(ctx, tool, ev.timeMs, { outcome: 'not_completed', gap: true });
  else closeLaunched(ctx, tool, ev.timeMs, ev.isInterrupt ? { outcome: 'interrupted' } : { outcome: 'error', errorType: 'tool_error', awaitCause: true });
}
