/**
 * Exported spans of one session as an indented text tree (one line per span: name, outcome, ERROR,
 * gap mark), so an e2e test can assert the exact tree in one readable `toEqual`, and the trace
 * invariants that do not depend on the scenario, as a list of violations (empty when the trace is
 * right). bridge-e2e.ts `traceProblems` is the shared part; `lifecycleProblems` adds the
 * invariants of issue 10 it does not check yet (children inside their parent's time, no gap marks),
 * with the same exceptions as the model helper's test/support/trace-invariants.ts: a resumed segment
 * runs after the root's first run, a background subagent outlives its Agent call, a late span comes
 * after its owner closed. Once traceProblems calls traceInvariants, this reduces to it.
 */
import type { HookPayload } from './hook-recorder.js';
import type { ReceivedSpan } from './otlp-receiver.js';
import { spansOf, traceProblems } from './bridge-e2e.js';

/** `name outcome=<x> ERROR gap=<y>`; the outcome is the tool's or the turn's; `DUPLICATE-ID` when
 *  another span has the same id (its children then show under both). */
export function spanLine(s: ReceivedSpan, duplicated = false): string {
  const outcome = s.attributes['claude_code.tool.outcome'] ?? s.attributes['claude_code.turn.outcome'];
  let line = s.name;
  if (outcome !== undefined) line += ` outcome=${String(outcome)}`;
  if (s.status.code === 2) line += ' ERROR';
  if (s.attributes['claude_code.gap'] !== undefined) line += ` gap=${String(s.attributes['claude_code.gap'])}`;
  if (duplicated) line += ' DUPLICATE-ID';
  return line;
}

/** The session's spans as a tree, children in start order (`canonical`: in the order of their
 *  rendered subtrees, for siblings that start concurrently), two spaces per level. Spans whose
 *  parent is missing are listed at the top level after the root, prefixed with `ORPHAN `. */
export function spanTree(spans: ReceivedSpan[], sessionId: string, order: 'time' | 'canonical' = 'time'): string[] {
  // Model calls (`chat {model}` leaves, read from the transcript) are asserted exactly in
  // test/e2e/model-calls.test.ts; the lifecycle trees are about hook events. The invariants
  // (lifecycleProblems) still check every span, chat spans included.
  const mine = spansOf(spans, sessionId).filter((s) => !s.name.startsWith('chat '));
  const ids = new Set(mine.map((s) => s.spanId));
  const dup = (s: ReceivedSpan) => mine.some((x) => x !== s && x.spanId === s.spanId && JSON.stringify(x) !== JSON.stringify(s));
  const byStart = (a: ReceivedSpan, b: ReceivedSpan) => a.startMs - b.startMs || a.name.localeCompare(b.name);
  const render = (s: ReceivedSpan, depth: number, prefix = ''): string[] => {
    const children = mine.filter((x) => x.parentSpanId === s.spanId && x !== s).sort(byStart).map((c) => render(c, depth + 1));
    if (order === 'canonical') children.sort((a, b) => a.join('\n').localeCompare(b.join('\n')));
    return [`${'  '.repeat(depth)}${prefix}${spanLine(s, dup(s))}`, ...children.flat()];
  };
  return [
    ...mine.filter((s) => !s.parentSpanId).sort(byStart).flatMap((r) => render(r, 0)),
    ...mine.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId)).sort(byStart).flatMap((o) => render(o, 0, 'ORPHAN ')),
  ];
}

/** Tool-like ids Claude Code itself issued (PreSkillShellCommand), which should get a span each too. */
export const skillShellIds = (payloads: HookPayload[]): string[] =>
  payloads.filter((p) => p.hook_event_name === 'PreSkillShellCommand').map((p) => p.tool_use_id!).filter(Boolean);

/** traceProblems plus: every child inside its parent's time, no gap marks, one trace per session. */
export function lifecycleProblems(spans: ReceivedSpan[], payloads: HookPayload[], issuedToolIds: string[]): string[] {
  const problems = traceProblems(spans, payloads, [...issuedToolIds, ...skillShellIds(payloads)]);
  const sessions = new Set(payloads.map((p) => p.session_id));
  const traces = new Set(spans.map((s) => s.traceId));
  if (traces.size !== sessions.size) problems.push(`${traces.size} traces for ${sessions.size} sessions`);
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const exempt = (s: ReceivedSpan) =>
    s.attributes['claude_code.span.kind'] === 'segment' || s.attributes['claude_code.agent.background'] === true || s.attributes['claude_code.late'] === true;
  const tol = 0.001; // OTLP nanoseconds → our milliseconds
  for (const s of spans) {
    const p = s.parentSpanId ? byId.get(s.parentSpanId) : undefined;
    if (p && !exempt(s) && (s.startMs < p.startMs - tol || s.endMs > p.endMs + tol)) {
      problems.push(`${s.name} [${s.startMs}, ${s.endMs}] outside its parent ${p.name} [${p.startMs}, ${p.endMs}]`);
    }
    if (s.attributes['claude_code.gap'] !== undefined) problems.push(`${s.name}: gap mark ${String(s.attributes['claude_code.gap'])}`);
  }
  return problems;
}
