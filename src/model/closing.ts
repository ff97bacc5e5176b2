/**
 * Closing spans: a tool, a subagent (and the tools it left open), a compaction, a turn (and what it
 * still holds), a whole session. What a span still holds open when it closes gets an outcome from
 * why it closes: Claude Code ended it (`interrupted`: a new prompt or SessionEnd came, Claude Code
 * sends no Stop or Post event for what it cut short) or the bridge had to (`not_completed`, gap
 * `missing_end`: an event was lost, or the process is gone). Each writes to the context's emitter.
 */
import { ATTR_ERROR_TYPE, CC } from './attributes.js';
import type { Ctx } from './emitter.js';
import { finish, type OpenAgent, type OpenSpan, type OpenTool } from './open-span.js';
import { closeTool, type ToolOutcome, type ToolResult } from './tool-close.js';
import type { Attributes, SpanRecord } from './types.js';

/** Why something still open is being closed by its owner. */
export type Leftover = 'not_completed' | 'interrupted';

export function endTool(ctx: Ctx, tool: OpenTool, endMs: number, result: ToolResult) {
  const { s, out, categorize } = ctx;
  // Skill shell commands a tool ran (the Skill tool's preamble) end with it.
  for (const child of [...s.tools.values()]) if (child.skillCommand && child.parentSpanId === tool.spanId) endTool(ctx, child, endMs, { kind: 'unreported' });
  s.tools.delete(tool.toolUseId);
  s.closedTools.add(tool.toolUseId);
  const span = closeTool(tool, endMs, result, categorize);
  if (tool.late) span.attributes[CC.late] = true;
  if (span.status.code === 'error' && !tool.skillCommand) s.toolErrors++;
  out.span(span);
}

/** The outcome of a tool that got no Post event: denied if a permission event named it. */
export function leftoverResult(tool: OpenTool, leftover: Leftover): ToolResult {
  if (tool.deniedReason || tool.permissionRequested) return { kind: 'denied', error: tool.deniedReason };
  if (tool.skillCommand) return { kind: 'unreported' };
  return { kind: leftover satisfies ToolOutcome };
}

/** Emits a finished subagent once its parent is confirmed (or when `force`d, at the end of its turn). */
export function emitAgentIfReady({ s, out }: Ctx, agent: OpenAgent, force: boolean) {
  if (!agent.finished || ((!agent.parentConfirmed || agent.awaitingCause) && !force)) return;
  if (agent.parentSpanId) agent.finished.parentSpanId = agent.parentSpanId;
  out.span(agent.finished);
  s.agents.delete(agent.agentId);
  s.closedAgents.set(agent.agentId, agent.spanId);
}

export interface AgentEnd {
  /** `completed` (SubagentStop), `stop_failure`, `interrupted`, `error`, or `not_completed` (gap). */
  outcome: string;
  errorType?: string | undefined;
  gap?: boolean;
  /** The cause may still come (a StopFailure with this agent_id): hold the span until then or the turn's end. */
  awaitCause?: boolean;
}

export function closeAgent(ctx: Ctx, agent: OpenAgent, endMs: number, end: AgentEnd) {
  if (agent.finished) return;
  // A subagent that stopped normally with a tool still open lost that tool's Post event (or it was denied).
  const leftover: Leftover = end.gap || end.outcome === 'completed' ? 'not_completed' : 'interrupted';
  for (const tool of [...ctx.s.tools.values()]) {
    if (tool.agentId === agent.agentId) endTool(ctx, tool, endMs, leftoverResult(tool, leftover));
  }
  const extra: Attributes = { [CC.agentOutcome]: end.outcome };
  if (end.gap) extra[CC.gap] = 'missing_end';
  if (end.errorType) extra[ATTR_ERROR_TYPE] = end.errorType;
  agent.finished = finish(agent, endMs, extra, end.errorType ? { code: 'error', message: end.errorType } : undefined);
  if (end.awaitCause) agent.awaitingCause = true;
  emitAgentIfReady(ctx, agent, false);
}

/** The StopFailure that names why a subagent ended, after its Agent call's failure ended it: the
 *  held span takes that cause (and the earlier end time), then goes out. */
export function takeCause(ctx: Ctx, agent: OpenAgent, endMs: number, errorType: string) {
  if (!agent.finished || !agent.awaitingCause) return false;
  agent.awaitingCause = false;
  const f = agent.finished;
  f.endMs = Math.min(f.endMs, endMs);
  f.attributes[CC.agentOutcome] = 'stop_failure';
  f.attributes[ATTR_ERROR_TYPE] = errorType;
  f.status = { code: 'error', message: errorType };
  emitAgentIfReady(ctx, agent, false);
  return true;
}

/** A foreground subagent cannot outlive the Agent call that launched it. */
export function closeLaunched(ctx: Ctx, tool: OpenTool, endMs: number, end: AgentEnd) {
  if (tool.toolName !== 'Agent' || tool.background) return;
  for (const agent of [...ctx.s.agents.values()]) {
    if (agent.parentToolUseId === tool.toolUseId && !agent.finished && agent.attributes[CC.agentBackground] !== true) closeAgent(ctx, agent, endMs, end);
  }
}

export function closeCompaction({ s, out }: Ctx, endMs: number, extra: Attributes) {
  if (!s.compaction) return;
  out.span(finish(s.compaction, endMs, extra));
  s.compaction = undefined;
}

export function closeTurn(ctx: Ctx, turn: OpenSpan, key: string, endMs: number, extra: Attributes, status?: SpanRecord['status'], leftover: Leftover = 'not_completed') {
  const { s } = ctx;
  for (const tool of [...s.tools.values()]) {
    if (!tool.agentId && tool.parentSpanId === turn.spanId) {
      const result = leftoverResult(tool, leftover);
      closeLaunched(ctx, tool, endMs, { outcome: leftover === 'interrupted' ? 'interrupted' : 'not_completed', gap: leftover === 'not_completed' });
      endTool(ctx, tool, endMs, result);
    }
  }
  settleFailedCalls(ctx);
  for (const agent of [...s.agents.values()]) emitAgentIfReady(ctx, agent, true);
  if (s.compaction?.parentSpanId === turn.spanId) closeCompaction(ctx, endMs, { [CC.gap]: 'missing_end' });
  s.turns.delete(key);
  s.closedTurns.set(key, turn.spanId);
  ctx.out.span(finish(turn, endMs, extra, status));
}

/** Closes everything the session holds: after its SessionEnd (`byBridge` false) or by the reaper. */
export function endSession(ctx: Ctx, endMs: number, attrs: Attributes, byBridge: boolean) {
  const { s, out } = ctx;
  const leftover: Leftover = byBridge ? 'not_completed' : 'interrupted';
  const gapAttr: Attributes = byBridge ? { [CC.gap]: 'missing_end' } : {};
  for (const [key, turn] of [...s.turns]) {
    closeTurn(ctx, turn, key, endMs, { [CC.turnOutcome]: leftover, ...gapAttr }, undefined, leftover);
  }
  for (const tool of [...s.tools.values()]) endTool(ctx, tool, endMs, leftoverResult(tool, leftover));
  settleFailedCalls(ctx);
  for (const agent of [...s.agents.values()]) {
    closeAgent(ctx, agent, endMs, { outcome: leftover, gap: byBridge });
    emitAgentIfReady(ctx, agent, true);
  }
  closeCompaction(ctx, endMs, byBridge ? gapAttr : { [CC.compactionOutcome]: 'interrupted' });
  // A run whose last turn ended in an API error (StopFailure) ended in error.
  const failed = s.lastTurnError;
  const summary: Attributes = { ...attrs, ...gapAttr, [CC.sessionTurns]: s.turnCount, [CC.sessionToolErrors]: s.toolErrors };
  if (failed) summary[ATTR_ERROR_TYPE] = failed;
  const status: SpanRecord['status'] | undefined = failed ? { code: 'error', message: failed } : undefined;
  if (s.segment) {
    out.span(finish(s.segment, endMs, summary, status));
    s.segment = undefined;
  }
  if (s.root) {
    out.span(finish(s.root, endMs, summary, status));
    s.root = undefined;
  }
  s.rootEnded = true;
  s.endedAtMs = endMs;
  s.launchedBy.clear(); // kept until eviction: ids, times and closed tool ids (late duplicates)
}

/** At a turn's end: a failed Agent call whose StopFailure never came ends the subagent it was guessed to launch. */
export function settleFailedCalls(ctx: Ctx) {
  const pending = ctx.s.failedAgentCalls;
  if (!pending?.size) return;
  for (const [toolUseId, endMs] of [...pending]) {
    pending.delete(toolUseId);
    for (const agent of [...ctx.s.agents.values()]) {
      if (agent.parentToolUseId === toolUseId && !agent.finished) {
        agent.parentConfirmed = true; // the guess is all there is
        closeAgent(ctx, agent, endMs, { outcome: 'error', errorType: 'tool_error' });
      }
    }
  }
}
