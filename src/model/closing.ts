/**
 * Closing spans: a tool, a subagent (and the tools it left open), a compaction, a turn (and what it
 * still holds), a whole session. Each writes the finished spans to the context's emitter.
 */
import { ATTR_ERROR_TYPE, CC } from './attributes.js';
import type { Ctx } from './emitter.js';
import { finish, type OpenAgent, type OpenSpan, type OpenTool } from './open-span.js';
import { closeTool, type ToolResult } from './tool-close.js';
import type { Attributes, SpanRecord } from './types.js';

export function endTool({ s, out, categorize }: Ctx, tool: OpenTool, endMs: number, result: ToolResult) {
  s.tools.delete(tool.toolUseId);
  s.closedTools.add(tool.toolUseId);
  const span = closeTool(tool, endMs, result, categorize);
  if (span.status.code === 'error') s.toolErrors++;
  out.span(span);
}

/** Emits a finished subagent once its parent is confirmed (or when `force`d, at the end of its turn). */
export function emitAgentIfReady({ s, out }: Ctx, agent: OpenAgent, force: boolean) {
  if (!agent.finished || (!agent.parentConfirmed && !force)) return;
  if (agent.parentSpanId) agent.finished.parentSpanId = agent.parentSpanId;
  out.span(agent.finished);
  s.agents.delete(agent.agentId);
}

export function closeAgent(ctx: Ctx, agent: OpenAgent, endMs: number, extra: Attributes) {
  for (const tool of [...ctx.s.tools.values()]) {
    if (tool.agentId === agent.agentId) endTool(ctx, tool, endMs, { kind: 'not_completed' });
  }
  agent.finished = finish(agent, endMs, extra);
  emitAgentIfReady(ctx, agent, false);
}

export function closeCompaction({ s, out }: Ctx, endMs: number, extra: Attributes) {
  if (!s.compaction) return;
  out.span(finish(s.compaction, endMs, extra));
  s.compaction = undefined;
}

export function closeTurn(ctx: Ctx, turn: OpenSpan, key: string, endMs: number, extra: Attributes, status?: SpanRecord['status']) {
  const { s } = ctx;
  for (const tool of [...s.tools.values()]) {
    if (!tool.agentId && tool.parentSpanId === turn.spanId) {
      endTool(ctx, tool, endMs, tool.deniedReason || tool.permissionRequested ? { kind: 'denied', error: tool.deniedReason } : { kind: 'not_completed' });
    }
  }
  for (const agent of [...s.agents.values()]) emitAgentIfReady(ctx, agent, true);
  if (s.compaction?.parentSpanId === turn.spanId) closeCompaction(ctx, endMs, { [CC.gap]: 'missing_end' });
  s.turns.delete(key);
  ctx.out.span(finish(turn, endMs, extra, status));
}

/** Closes everything the session holds; `gap` when the bridge closes it (no SessionEnd came). */
export function endSession(ctx: Ctx, endMs: number, attrs: Attributes, gap: boolean) {
  const { s, out } = ctx;
  for (const tool of [...s.tools.values()]) endTool(ctx, tool, endMs, { kind: 'not_completed' });
  for (const agent of [...s.agents.values()]) {
    if (!agent.finished) agent.finished = finish(agent, endMs, { [CC.gap]: 'missing_end' });
    emitAgentIfReady(ctx, agent, true);
  }
  closeCompaction(ctx, endMs, { [CC.gap]: 'missing_end' });
  for (const [key, turn] of [...s.turns]) {
    s.turns.delete(key);
    out.span(finish(turn, endMs, { [CC.turnOutcome]: 'not_completed', [CC.gap]: 'missing_end' }));
  }
  const gapAttr: Attributes = gap ? { [CC.gap]: 'missing_end' } : {};
  if (s.segment) {
    out.span(finish(s.segment, endMs, { ...attrs, ...gapAttr }));
    s.segment = undefined;
  }
  if (s.root) {
    // A session whose last turn ended in an API error (StopFailure) ended in error.
    const failed = s.lastTurnError;
    const summary = { [CC.sessionTurns]: s.turnCount, [CC.sessionToolErrors]: s.toolErrors };
    out.span(failed
      ? finish(s.root, endMs, { ...attrs, ...gapAttr, ...summary, [ATTR_ERROR_TYPE]: failed }, { code: 'error', message: failed })
      : finish(s.root, endMs, { ...attrs, ...gapAttr, ...summary }));
    s.root = undefined;
  }
  s.rootEnded = true;
  s.endedAtMs = endMs;
  s.launchedBy.clear(); // kept until eviction: ids, times and closed tool ids (late duplicates)
}
