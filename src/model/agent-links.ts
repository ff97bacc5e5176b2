/**
 * Which Agent tool call launched a subagent. SubagentStart carries no tool_use_id, so the link is
 * made in two steps: a tentative match when the subagent starts (the oldest open Agent call of the
 * same subagent type that has no agent yet), and a confirmation from the Agent call's PostToolUse,
 * whose tool_response names the agentId. A background launch confirms before SubagentStart.
 * The subagent span is only emitted once its parent is confirmed (or its turn ends).
 */
import { spanIdFor, spanKeys } from './ids.js';
import type { OpenAgent, SessionState } from './open-span.js';

export function resolveAgentParent(s: SessionState, agent: OpenAgent, agentType: string | undefined, fallback: () => string) {
  const candidates = [...s.tools.values()].filter((t) => t.toolName === 'Agent' && !t.agentLinked);
  const sameType = candidates.filter((t) => (t.subagentType ?? 'general-purpose') === (agentType || 'general-purpose'));
  const pick = (sameType.length ? sameType : candidates).sort((a, b) => a.startMs - b.startMs)[0];
  if (pick) {
    pick.agentLinked = agent.agentId;
    agent.parentToolUseId = pick.toolUseId;
    agent.parentSpanId = pick.spanId;
    agent.attributes['claude_code.agent.background'] = false;
  } else {
    agent.parentSpanId = fallback();
  }
}

/** Records that `toolUseId` launched `agent`; swaps with a subagent that was matched to it wrongly. */
export function confirmAgentParent(s: SessionState, agent: OpenAgent, toolUseId: string, toolSpanId: string, background: boolean) {
  const previous = agent.parentToolUseId;
  if (previous !== toolUseId) {
    for (const other of s.agents.values()) {
      if (other !== agent && other.parentToolUseId === toolUseId && !other.parentConfirmed) {
        if (previous) {
          other.parentToolUseId = previous;
          other.parentSpanId = spanIdFor(s.sessionId, spanKeys.tool(previous));
          const prevTool = s.tools.get(previous);
          if (prevTool) prevTool.agentLinked = other.agentId;
        } else {
          delete other.parentToolUseId;
        }
      }
    }
    const tool = s.tools.get(toolUseId);
    if (tool) tool.agentLinked = agent.agentId;
  }
  agent.parentToolUseId = toolUseId;
  agent.parentSpanId = toolSpanId;
  agent.parentConfirmed = true;
  agent.attributes['claude_code.agent.background'] = background;
}
