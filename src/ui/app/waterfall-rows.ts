/**
 * Pure: a session's spans (stored, plus the agent's open ones, drawn as running up to `nowMs`) as
 * the flat rows of the page's waterfall. The tree comes from the terminal view's buildSpanForest and
 * the labels from its labelOf, so both views show the same structure; each subagent gets its own
 * lane (a colour band shared by the subagent and everything under it), so parallel subagents read
 * as separate tracks.
 */
import type { StoredSpan } from '../../store/stored-span.js';
import { buildSpanForest, MISSING_PARENT, nsToMs, type SpanNode } from '../../view/trace-tree.js';
import { labelOf } from '../../view/waterfall.js';
import type { LiveSpan } from '../agent-live.js';

/** `closing`: the agent closed it, its outcome is on its way to the store. */
export type RowMark = 'ok' | 'error' | 'denied' | 'interrupted' | 'gap' | 'running' | 'closing' | 'none';

export interface WaterfallRow {
  key: string;
  depth: number;
  label: string;
  name: string;
  span?: StoredSpan;
  startMs: number;
  durationMs: number;
  mark: RowMark;
  note: string;
  /** 0 = the main agent; 1.. = the n-th subagent (by start). */
  lane: number;
  running: boolean;
}

export interface Waterfall {
  rows: WaterfallRow[];
  totalMs: number;
  startMs: number;
}

const msToNano = (ms: number) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The agent's open span as a stored span ending now (`claude_code.ui.running`), or a closed one
 * not stored yet ending at `endMs` (`claude_code.ui.closing`). */
export function liveToStored(span: LiveSpan & { endMs?: number }, traceId: string, nowMs: number): StoredSpan {
  const s: StoredSpan = {
    traceId,
    spanId: span.spanId,
    name: span.name,
    kind: 'internal',
    startTimeUnixNano: msToNano(span.startMs),
    endTimeUnixNano: msToNano(Math.max(span.endMs ?? nowMs, span.startMs)),
    status: { code: 'unset' },
    attributes: { ...(span.attributes as StoredSpan['attributes']), [span.endMs === undefined ? 'claude_code.ui.running' : 'claude_code.ui.closing']: true },
    events: [],
  };
  if (span.parentSpanId) s.parentSpanId = span.parentSpanId;
  return s;
}

export function markOf(span: StoredSpan): { mark: RowMark; note: string } {
  if (span.attributes['claude_code.ui.running'] === true) return { mark: 'running', note: 'running' };
  if (span.attributes['claude_code.ui.closing'] === true) return { mark: 'closing', note: 'closing…' };
  const gap = str(span.attributes['claude_code.gap']);
  if (gap) return { mark: 'gap', note: gap };
  const outcome = str(span.attributes['claude_code.tool.outcome']) ?? str(span.attributes['claude_code.turn.outcome']) ?? str(span.attributes['claude_code.agent.outcome']);
  if (outcome === 'denied') return { mark: 'denied', note: 'denied' };
  if (outcome === 'interrupted') return { mark: 'interrupted', note: 'interrupted' };
  if (span.status.code === 'error' || (outcome && !['success', 'stop', 'completed', 'unreported'].includes(outcome))) {
    return { mark: 'error', note: str(span.attributes['error.type']) ?? outcome ?? 'error' };
  }
  return { mark: 'ok', note: outcome ?? '' };
}

export function buildWaterfall(stored: readonly StoredSpan[], live: ReadonlyArray<LiveSpan & { endMs?: number }>, traceId: string, nowMs: number): Waterfall {
  const have = new Set(stored.map((s) => s.spanId));
  const spans = [...stored, ...live.filter((s) => !have.has(s.spanId)).map((s) => liveToStored(s, traceId, nowMs))];
  if (spans.length === 0) return { rows: [], totalMs: 0, startMs: 0 };
  const forest = buildSpanForest(spans);
  const rows: WaterfallRow[] = [];
  let lanes = 0;
  const visit = (node: SpanNode, depth: number, lane: number) => {
    const span = node.span;
    const myLane = span?.attributes['claude_code.span.kind'] === 'subagent' ? ++lanes : lane;
    const startMs = nsToMs(node.startNs);
    const durationMs = nsToMs(node.endNs - node.startNs);
    if (span) {
      const { mark, note } = markOf(span);
      rows.push({ key: span.spanId, depth, label: labelOf(span), name: span.name, span, startMs, durationMs, mark, note, lane: myLane, running: mark === 'running' || mark === 'closing' });
    } else {
      rows.push({ key: `missing/${node.missingParentId ?? ''}`, depth, label: MISSING_PARENT, name: MISSING_PARENT, startMs, durationMs, mark: 'none', note: '', lane: myLane, running: false });
    }
    for (const c of node.children) visit(c, depth + 1, myLane);
  };
  forest.roots.forEach((r) => visit(r, 0, 0));
  return { rows, totalMs: nsToMs(forest.endNs), startMs: nsToMs(forest.startNs) };
}

/** What a gap mark means, for the details panel. */
export const GAP_EXPLAINED: Record<string, string> = {
  missing_start: 'No opening event reached the bridge: the span starts at the first event seen.',
  missing_end: 'No closing event reached the bridge: the bridge closed the span itself (its end is an upper bound).',
  agent_down: 'The agent stopped uncleanly while this span was open: events sent over http hooks meanwhile may be missing.',
};
