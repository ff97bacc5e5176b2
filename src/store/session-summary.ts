import { nanoStringToMs, type PlainAttributes, type StoredSpan } from './stored-span.js';
import { sessionIdOf } from './session-key.js';
import { sessionUsage } from './session-usage.js';

export interface SessionSummary {
  sessionId: string;
  /** Name of the file in the store, without `.jsonl`. */
  fileKey: string;
  traceId: string;
  /** ISO 8601, root span start (else the earliest span). */
  start: string;
  /** ISO 8601, root span end; absent while the session is open. */
  end?: string;
  /** Root duration, else earliest start to latest end of what is stored. */
  durationMs: number;
  turns: number;
  tools: number;
  errors: number;
  spans: number;
  /** True when the root span has not been exported yet (session still running, or lost). */
  open: boolean;
  cwd?: string;
  /** Model calls (chat spans) and their token sums; absent when the session has none. */
  modelCalls?: number;
  inputTokens?: number;
  outputTokens?: number;
  unpricedCalls?: number;
  /** The last closed root's or segment's cost (Claude Code's own when stated), else the priced calls' sum. */
  costUsd?: number;
}

/** True for the session's root span. */
export function isRootSpan(span: StoredSpan): boolean {
  const kind = span.attributes['claude_code.span.kind'];
  if (kind !== undefined) return kind === 'session';
  return span.parentSpanId === undefined;
}

function spanKind(span: StoredSpan): string | undefined {
  const kind = span.attributes['claude_code.span.kind'];
  return typeof kind === 'string' ? kind : undefined;
}

/** Pure: the list row for one session's (deduplicated) spans. Undefined when there are none. */
export function summarizeSession(
  fileKey: string,
  spans: readonly StoredSpan[],
  resource: PlainAttributes = {},
): SessionSummary | undefined {
  const first = spans[0];
  if (!first) return undefined;
  const root = spans.find(isRootSpan);
  let minStart = Infinity;
  let maxEnd = -Infinity;
  let turns = 0;
  let tools = 0;
  let errors = 0;
  let cwd: string | undefined;
  for (const s of spans) {
    minStart = Math.min(minStart, nanoStringToMs(s.startTimeUnixNano));
    maxEnd = Math.max(maxEnd, nanoStringToMs(s.endTimeUnixNano));
    const kind = spanKind(s);
    if (kind === 'turn') turns += 1;
    else if (kind === 'tool') tools += 1;
    if (s.status.code === 'error') errors += 1;
    const c = s.attributes['claude_code.cwd'];
    if (cwd === undefined && typeof c === 'string') cwd = c;
  }
  if (root) {
    const c = root.attributes['claude_code.cwd'];
    if (typeof c === 'string') cwd = c;
  }
  if (cwd === undefined && typeof resource['process.cwd'] === 'string') cwd = resource['process.cwd'];
  const startMs = root ? nanoStringToMs(root.startTimeUnixNano) : minStart;
  const endMs = root ? nanoStringToMs(root.endTimeUnixNano) : maxEnd;
  const summary: SessionSummary = {
    sessionId: sessionIdOf(root ?? first),
    fileKey,
    traceId: (root ?? first).traceId,
    start: new Date(startMs).toISOString(),
    durationMs: Math.max(0, Math.round(endMs - startMs)),
    turns,
    tools,
    errors,
    spans: spans.length,
    open: root === undefined,
  };
  if (root) summary.end = new Date(endMs).toISOString();
  if (cwd !== undefined) summary.cwd = cwd;
  const usage = sessionUsage(spans);
  if (usage.modelCalls > 0) {
    summary.modelCalls = usage.modelCalls;
    summary.inputTokens = usage.inputTokens;
    summary.outputTokens = usage.outputTokens;
    if (usage.unpricedCalls > 0) summary.unpricedCalls = usage.unpricedCalls;
  }
  if (usage.costUsd !== undefined) summary.costUsd = usage.costUsd;
  return summary;
}
