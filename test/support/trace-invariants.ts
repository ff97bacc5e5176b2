/**
 * The invariants every exported trace must hold, as a readable list of violations (empty when the
 * trace is right). Used by the unit and golden tests on builder output and, through bridge-e2e.ts
 * `traceProblems`, by every e2e test on what the collector received:
 * - one trace per session (its id derived from the session id), every span carrying its session.id;
 * - exactly one root per trace; no span id used by two different spans (across resumes, restarts,
 *   replays: an identical re-export is not a duplicate); every parent exported;
 * - every child inside its parent's time, except the documented exceptions (docs/trace-model.md):
 *   resumed segments (after the root's run), background subagents (outlive their Agent call),
 *   late spans (`claude_code.late`, after their owner closed);
 * - no gap marks unless the test removed events (`eventsRemoved`);
 * - every tool_use_id the model issued has exactly one tool span, and no tool span names an id the
 *   model never issued (skill shell commands, `claude_code.tool.origin=skill`, are Claude Code's own).
 */
import { traceIdFor } from '../../src/model/ids.js';

export interface CheckedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string | undefined;
  name: string;
  startMs: number;
  endMs: number;
  attributes: Record<string, unknown>;
}

export interface InvariantOptions {
  /** Sessions the spans must cover, one trace each (default: the session.id values seen). */
  sessions?: string[];
  /** Tool use ids the model issued (the scripted model server knows them). */
  issuedToolIds?: string[];
  /** The test removed events (killed the agent, dropped payloads): gap marks are expected. */
  eventsRemoved?: boolean;
  /** Late spans (after SessionEnd) are expected. */
  allowLate?: boolean;
  /** Clock tolerance for the time checks (OTLP round trip rounds to the microsecond). */
  toleranceMs?: number;
}

const exempt = (s: CheckedSpan) =>
  s.attributes['claude_code.span.kind'] === 'segment' || s.attributes['claude_code.agent.background'] === true || s.attributes['claude_code.late'] === true;

const same = (a: CheckedSpan, b: CheckedSpan) => JSON.stringify(a) === JSON.stringify(b);

export function traceInvariants(spans: CheckedSpan[], options: InvariantOptions = {}): string[] {
  const problems: string[] = [];
  const tol = options.toleranceMs ?? 0.001;
  const sessions = options.sessions ?? [...new Set(spans.map((s) => String(s.attributes['session.id'])))];
  const expectedTraces = new Set(sessions.map(traceIdFor));
  for (const traceId of new Set(spans.map((s) => s.traceId))) if (!expectedTraces.has(traceId)) problems.push(`trace ${traceId} belongs to no session`);
  for (const sessionId of sessions) {
    const traceId = traceIdFor(sessionId);
    const mine = spans.filter((s) => s.traceId === traceId);
    if (mine.length === 0) {
      problems.push(`${sessionId}: no spans`);
      continue;
    }
    const byId = new Map<string, CheckedSpan>();
    for (const s of mine) {
      const seen = byId.get(s.spanId);
      if (seen && !same(seen, s)) problems.push(`${sessionId}: span id ${s.spanId} used by ${seen.name} and ${s.name}`);
      byId.set(s.spanId, s);
    }
    const unique = [...byId.values()];
    const roots = unique.filter((s) => !s.parentSpanId);
    if (roots.length !== 1) problems.push(`${sessionId}: ${roots.length} root spans`);
    for (const s of unique) {
      if (s.attributes['session.id'] !== sessionId) problems.push(`${sessionId}: ${s.name} without its session.id`);
      const parent = s.parentSpanId ? byId.get(s.parentSpanId) : undefined;
      if (s.parentSpanId && !parent) problems.push(`${sessionId}: ${s.name} ${s.spanId}: parent ${s.parentSpanId} not exported`);
      if (parent && !exempt(s) && (s.startMs < parent.startMs - tol || s.endMs > parent.endMs + tol)) {
        problems.push(`${sessionId}: ${s.name} [${s.startMs}, ${s.endMs}] outside its parent ${parent.name} [${parent.startMs}, ${parent.endMs}]`);
      }
      if (s.endMs < s.startMs) problems.push(`${sessionId}: ${s.name} ends before it starts`);
      const gap = s.attributes['claude_code.gap'];
      if (gap !== undefined && !options.eventsRemoved) problems.push(`${sessionId}: ${s.name} ${s.spanId}: gap mark ${String(gap)}`);
      if (s.attributes['claude_code.late'] === true && !options.allowLate) problems.push(`${sessionId}: ${s.name}: late span`);
    }
  }
  if (options.issuedToolIds) {
    const tools = new Map<string, Set<string>>();
    for (const s of spans) {
      if (s.attributes['gen_ai.operation.name'] !== 'execute_tool') continue;
      const id = String(s.attributes['gen_ai.tool.call.id']);
      tools.set(id, (tools.get(id) ?? new Set()).add(s.spanId));
      if (!options.issuedToolIds.includes(id) && s.attributes['claude_code.tool.origin'] !== 'skill') problems.push(`span for tool_use_id ${id} the model never issued`);
    }
    for (const id of options.issuedToolIds) {
      const n = tools.get(id)?.size ?? 0;
      if (n !== 1) problems.push(`tool_use_id ${id}: ${n} spans`);
    }
  }
  return problems;
}
