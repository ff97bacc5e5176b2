import type { PlainAttributes, StoredSpan, StoredStatusCode } from '../store/stored-span.js';

/** Label of the synthetic node that holds spans whose parent is not in the store. */
export const MISSING_PARENT = '(missing parent)';

export interface SpanNode {
  /** Absent on a synthetic "(missing parent)" node. */
  span?: StoredSpan;
  /** On a synthetic node: the parent span id that was referenced but not found. */
  missingParentId?: string;
  children: SpanNode[];
  /** Offsets from the trace start, in nanoseconds. */
  startNs: bigint;
  endNs: bigint;
}

export interface SpanForest {
  roots: SpanNode[];
  /** Earliest start and latest end over all spans (0n when empty). */
  startNs: bigint;
  endNs: bigint;
}

function toNs(text: string): bigint {
  try {
    return BigInt(text);
  } catch {
    return 0n;
  }
}

function compareNodes(a: SpanNode, b: SpanNode): number {
  if (a.startNs !== b.startNs) return a.startNs < b.startNs ? -1 : 1;
  if (a.endNs !== b.endNs) return a.endNs > b.endNs ? -1 : 1; // longer first
  const an = a.span?.name ?? '';
  const bn = b.span?.name ?? '';
  if (an !== bn) return an < bn ? -1 : 1;
  const ai = a.span?.spanId ?? a.missingParentId ?? '';
  const bi = b.span?.spanId ?? b.missingParentId ?? '';
  return ai < bi ? -1 : ai > bi ? 1 : 0;
}

/**
 * Pure: the parent/child forest of a session's spans, children sorted by start time.
 * Spans whose parent is absent are kept, grouped under one synthetic node per missing
 * parent id (so are spans caught in a parent cycle). Duplicate span ids: the last wins.
 */
export function buildSpanForest(spans: readonly StoredSpan[]): SpanForest {
  const byId = new Map<string, StoredSpan>();
  for (const s of spans) byId.set(s.spanId, s);
  const unique = [...byId.values()];
  let min: bigint | undefined;
  let max: bigint | undefined;
  for (const s of unique) {
    const st = toNs(s.startTimeUnixNano);
    const en = toNs(s.endTimeUnixNano);
    if (min === undefined || st < min) min = st;
    if (max === undefined || en > max) max = en;
  }
  const origin = min ?? 0n;
  const nodes = new Map<string, SpanNode>();
  for (const s of unique) {
    const startNs = toNs(s.startTimeUnixNano) - origin;
    const endNs = toNs(s.endTimeUnixNano) - origin;
    nodes.set(s.spanId, { span: s, children: [], startNs, endNs: endNs < startNs ? startNs : endNs });
  }

  const roots: SpanNode[] = [];
  const missing = new Map<string, SpanNode>();
  const orphan = (node: SpanNode, parentId: string): void => {
    let group = missing.get(parentId);
    if (!group) {
      group = { missingParentId: parentId, children: [], startNs: node.startNs, endNs: node.endNs };
      missing.set(parentId, group);
      roots.push(group);
    }
    group.children.push(node);
    if (node.startNs < group.startNs) group.startNs = node.startNs;
    if (node.endNs > group.endNs) group.endNs = node.endNs;
  };

  for (const node of nodes.values()) {
    const parentId = node.span?.parentSpanId;
    if (parentId === undefined || parentId === node.span?.spanId) {
      roots.push(node);
      continue;
    }
    const parent = nodes.get(parentId);
    if (parent) parent.children.push(node);
    else orphan(node, parentId);
  }

  // Spans in a parent cycle are unreachable from any root: detach and keep them.
  const reached = new Set<SpanNode>();
  const walk = (n: SpanNode): void => {
    reached.add(n);
    for (const c of n.children) if (!reached.has(c)) walk(c);
  };
  roots.forEach(walk);
  for (const node of nodes.values()) {
    if (reached.has(node)) continue;
    const parent = nodes.get(node.span!.parentSpanId!);
    if (parent) parent.children = parent.children.filter((c) => c !== node);
    orphan(node, node.span!.parentSpanId!);
    walk(node);
  }

  const sortDeep = (list: SpanNode[]): void => {
    list.sort(compareNodes);
    for (const n of list) sortDeep(n.children);
  };
  sortDeep(roots);
  return { roots, startNs: origin, endNs: max === undefined ? 0n : max - origin };
}

export function nsToMs(ns: bigint): number {
  // Microsecond precision is plenty for display and keeps JSON short.
  return Number(ns / 1_000n) / 1_000;
}

// ---- JSON tree (`trace --json`) ---------------------------------------------------------

export interface TraceNode {
  name: string;
  spanId: string;
  /** Offset of the span's start from the trace start. */
  startOffsetMs: number;
  durationMs: number;
  status: { code: StoredStatusCode; message?: string };
  attributes: PlainAttributes;
  events: Array<{ name: string; offsetMs: number; attributes: PlainAttributes }>;
  /** True on a synthetic node standing for a parent span that is not in the store. */
  missing?: true;
  children: TraceNode[];
}

export interface TraceTree {
  traceId?: string;
  sessionId?: string;
  /** ISO 8601 start of the earliest span. */
  start?: string;
  durationMs: number;
  spanCount: number;
  roots: TraceNode[];
}

/** Pure: the nested tree printed by `trace --json`. */
export function toTraceTree(spans: readonly StoredSpan[]): TraceTree {
  const forest = buildSpanForest(spans);
  const originNs = forest.startNs;
  const toNode = (n: SpanNode): TraceNode => {
    const children = n.children.map(toNode);
    const base = {
      startOffsetMs: nsToMs(n.startNs),
      durationMs: nsToMs(n.endNs - n.startNs),
    };
    if (!n.span) {
      return {
        name: MISSING_PARENT,
        spanId: n.missingParentId ?? '',
        ...base,
        status: { code: 'unset' },
        attributes: {},
        events: [],
        missing: true,
        children,
      };
    }
    const s = n.span;
    return {
      name: s.name,
      spanId: s.spanId,
      ...base,
      status: { ...s.status },
      attributes: { ...s.attributes },
      events: s.events.map((e) => ({
        name: e.name,
        offsetMs: nsToMs(toNs(e.timeUnixNano) - originNs),
        attributes: { ...e.attributes },
      })),
      children,
    };
  };
  const roots = forest.roots.map(toNode);
  const first = spans[0];
  const root = spans.find((s) => s.attributes['claude_code.span.kind'] === 'session') ?? first;
  const sid = root?.attributes['session.id'];
  const tree: TraceTree = {
    ...(root ? { traceId: root.traceId } : {}),
    ...(typeof sid === 'string' ? { sessionId: sid } : {}),
    ...(root ? { start: new Date(nsToMs(originNs)).toISOString() } : {}),
    durationMs: nsToMs(forest.endNs),
    spanCount: new Set(spans.map((s) => s.spanId)).size,
    roots,
  };
  return tree;
}
