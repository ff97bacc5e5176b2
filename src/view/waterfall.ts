import type { StoredSpan } from '../store/stored-span.js';
import {
  fitPath,
  formatAge,
  formatDuration,
  formatTimestamp,
  padEnd,
  padStart,
  painter,
  sanitize,
  textWidth,
  truncateEnd,
  truncateStart,
  type Style,
} from './format.js';
import { sessionUsage } from '../store/session-usage.js';
import { costCell, usageLine } from './cost.js';
import { buildSpanForest, MISSING_PARENT, nsToMs, type SpanNode } from './trace-tree.js';

export interface WaterfallOptions {
  /** Columns available (default 80, minimum 40). */
  width?: number;
  /** ANSI colors (default off). */
  color?: boolean;
  /** Epoch ms, for "last span … ago" on open sessions (default Date.now()). */
  now?: number;
}

const DURATION_WIDTH = 6; // "59m59s", "999ms"
const MAX_NOTE = 20;
const INDENT = 2;
const MAX_INDENT = 12;

type Mark = { glyph: string; note: string; style: Style | undefined; bar: string };

interface Row {
  label: string;
  depth: number;
  node: SpanNode;
  mark?: Mark;
}

/** Pure: the span tree of one session as an aligned text waterfall. */
export function renderWaterfall(spans: readonly StoredSpan[], options: WaterfallOptions = {}): string {
  const width = Math.max(40, Math.floor(options.width ?? 80));
  const paint = painter(options.color ?? false);
  if (spans.length === 0) return 'No spans.\n';

  const forest = buildSpanForest(spans);
  const totalNs = forest.endNs;
  const rows: Row[] = [];
  const visit = (node: SpanNode, depth: number): void => {
    if (node.span) {
      rows.push({ label: labelOf(node.span), depth, node, mark: markOf(node.span) });
    } else {
      rows.push({ label: MISSING_PARENT, depth, node });
    }
    for (const child of node.children) visit(child, depth + 1);
  };
  forest.roots.forEach((r) => visit(r, 0));

  // Column layout: name │ bar │ duration │ cost (only when some span has one) │ mark note
  const noteWidth = Math.min(MAX_NOTE, Math.max(0, ...rows.map((r) => textWidth(r.mark?.note ?? ''))));
  const statusWidth = noteWidth > 0 ? 2 + noteWidth : 1;
  const costs = rows.map((r) => (r.node.span ? costCell(r.node.span) : ''));
  const costWidth = Math.max(0, ...costs.map(textWidth));
  const costColumn = costWidth > 0 ? costWidth + 1 : 0;
  let nameWidth = Math.min(48, Math.max(16, Math.round(width * 0.4)));
  let barWidth = width - nameWidth - DURATION_WIDTH - costColumn - statusWidth - 3;
  if (barWidth < 10) {
    nameWidth = Math.max(12, nameWidth - (10 - barWidth));
    barWidth = Math.max(4, width - nameWidth - DURATION_WIDTH - costColumn - statusWidth - 3);
  }

  const lines: string[] = [];
  for (const line of header(spans, forest.startNs, totalNs, options.now ?? Date.now(), width)) {
    lines.push(truncateEnd(line, width));
  }
  lines.push('');
  // Time axis over the bar column.
  const total = formatDuration(nsToMs(totalNs));
  const axis = '0s' + padStart(total, Math.max(0, barWidth - 2));
  lines.push(paint('dim', (' '.repeat(nameWidth + 1) + axis).trimEnd()));

  rows.forEach((row, i) => {
    const indent = ' '.repeat(Math.min(MAX_INDENT, row.depth * INDENT));
    const name = padEnd(truncateEnd(indent + row.label, nameWidth), nameWidth);
    if (!row.mark) {
      lines.push(paint('dim', name).trimEnd());
      return;
    }
    const { node, mark } = row;
    const bar = barOf(node.startNs, node.endNs, totalNs, barWidth, mark.bar);
    const duration = padStart(formatDuration(nsToMs(node.endNs - node.startNs)), DURATION_WIDTH);
    const note = truncateEnd(mark.note, MAX_NOTE);
    const status = paint(mark.style, note ? `${mark.glyph} ${note}` : mark.glyph);
    const barText = bar.replace(/[^ ]+/, (m) => paint(mark.style, m));
    const cost = costColumn ? `${padStart(costs[i]!, costWidth)} ` : '';
    lines.push(`${name} ${barText} ${duration} ${cost}${status}`.trimEnd());
  });
  return lines.join('\n') + '\n';
}

function header(spans: readonly StoredSpan[], startNs: bigint, totalNs: bigint, now: number, width: number): string[] {
  const root = spans.find((s) => s.attributes['claude_code.span.kind'] === 'session') ?? spans.find((s) => !s.parentSpanId);
  const any = root ?? spans[0]!;
  const sessionId = typeof any.attributes['session.id'] === 'string' ? sanitize(any.attributes['session.id']) : undefined;
  const startMs = nsToMs(startNs);
  const endMs = startMs + nsToMs(totalNs);
  const first = [`session ${sessionId ?? '?'}`, formatTimestamp(startMs), formatDuration(endMs - startMs)];
  const unique = new Map(spans.map((s) => [s.spanId, s]));
  let turns = 0;
  let tools = 0;
  let errors = 0;
  for (const s of unique.values()) {
    const kind = s.attributes['claude_code.span.kind'];
    if (kind === 'turn') turns += 1;
    if (kind === 'tool') tools += 1;
    if (s.status.code === 'error') errors += 1;
  }
  const counts = [plural(turns, 'turn'), plural(tools, 'tool'), plural(errors, 'error'), plural(unique.size, 'span')];
  if (!root) counts.push(`open, last span ${formatAge(Math.max(0, now - endMs))}`);
  const usage = usageLine(sessionUsage([...unique.values()]));
  let third = `trace ${any.traceId}`;
  const cwd = root?.attributes['claude_code.cwd'];
  if (typeof cwd === 'string') {
    const room = width - textWidth(third) - ' · cwd '.length;
    if (room >= 12) third += ` · cwd ${fitPath(sanitize(cwd), room)}`;
  }
  return [first.join(' · '), counts.join(' · '), ...(usage ? [usage] : []), third];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Cells [start, end) of the bar, at least one cell wide. */
function barOf(startNs: bigint, endNs: bigint, totalNs: bigint, barWidth: number, glyph: string): string {
  if (totalNs <= 0n) return glyph.repeat(barWidth);
  const scale = (ns: bigint): number => (Number(ns) / Number(totalNs)) * barWidth;
  let from = Math.min(barWidth - 1, Math.floor(scale(startNs)));
  let to = Math.min(barWidth, Math.round(scale(endNs)));
  if (to <= from) to = from + 1;
  from = Math.max(0, from);
  return ' '.repeat(from) + glyph.repeat(to - from) + ' '.repeat(barWidth - to);
}

function attr(span: StoredSpan, key: string): string | undefined {
  const v = span.attributes[key];
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

/** ✓ ok · ✗ error (error.type, or the tool outcome when it says more) · … gap. */
function markOf(span: StoredSpan): Mark {
  const gap = attr(span, 'claude_code.gap');
  if (gap) return { glyph: '…', note: sanitize(gap), style: 'yellow', bar: '░' };
  const outcome = attr(span, 'claude_code.tool.outcome') ?? attr(span, 'claude_code.turn.outcome');
  if (span.status.code === 'error' || (outcome && outcome !== 'success' && outcome !== 'stop')) {
    const note =
      outcome === 'denied' || outcome === 'interrupted'
        ? outcome
        : (attr(span, 'error.type') ?? outcome ?? 'error');
    return { glyph: '✗', note: sanitize(note), style: 'red', bar: '█' };
  }
  return { glyph: '✓', note: '', style: 'green', bar: '█' };
}

// ---- labels -----------------------------------------------------------------------------

/** Input field shown next to a tool's name, when the input was captured. */
const KEY_FIELDS: Record<string, readonly string[]> = {
  Bash: ['command'],
  Read: ['file_path'],
  Write: ['file_path'],
  Edit: ['file_path'],
  MultiEdit: ['file_path'],
  NotebookEdit: ['notebook_path'],
  Glob: ['pattern'],
  Grep: ['pattern'],
  WebFetch: ['url'],
  WebSearch: ['query'],
  Agent: ['description', 'subagent_type'],
  Task: ['description', 'subagent_type'],
  Skill: ['skill', 'command'],
};
const PATH_FIELDS = new Set(['file_path', 'notebook_path']);

export function labelOf(span: StoredSpan): string {
  const kind = attr(span, 'claude_code.span.kind');
  if (kind === 'tool') {
    const tool = attr(span, 'gen_ai.tool.name') ?? span.name.replace(/^execute_tool /, '');
    const excerpt = toolExcerpt(span, tool);
    return sanitize(excerpt ? `${tool} ${excerpt}` : tool);
  }
  if (kind === 'turn') {
    const n = attr(span, 'claude_code.turn.number');
    const prompt = attr(span, 'claude_code.prompt');
    const head = n ? `turn ${n}` : 'turn';
    return sanitize(prompt ? `${head}: ${prompt}` : head);
  }
  if (kind === 'segment') return 'resumed';
  if (kind === 'compaction') return 'compaction';
  return sanitize(span.name);
}

function toolExcerpt(span: StoredSpan, tool: string): string | undefined {
  const fields = KEY_FIELDS[tool];
  if (!fields) return undefined;
  const raw = attr(span, 'claude_code.tool.input') ?? attr(span, 'gen_ai.tool.call.arguments');
  if (!raw) return undefined;
  for (const field of fields) {
    const value = fieldOf(raw, field);
    if (value === undefined || value === '') continue;
    return PATH_FIELDS.has(field) ? shortPath(value) : sanitize(value);
  }
  return undefined;
}

/** A string field of captured input: JSON when intact, else a lenient scan (input is capped,
 * so it may be cut mid-way). */
function fieldOf(raw: string, field: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const v = (parsed as Record<string, unknown>)[field];
      return typeof v === 'string' ? v : undefined;
    }
    return undefined;
  } catch {
    const m = new RegExp(`"${field}"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)`).exec(raw);
    if (!m || m[1] === undefined) return undefined;
    try {
      return JSON.parse(`"${m[1].replace(/\\$/, '')}"`) as string;
    } catch {
      return m[1];
    }
  }
}

/** Long paths keep their last two segments: …/store/local-store.ts */
function shortPath(path: string): string {
  const clean = sanitize(path);
  if (clean.length <= 28) return clean;
  const parts = clean.split('/').filter(Boolean);
  return parts.length > 2 ? `…/${parts.slice(-2).join('/')}` : truncateStart(clean, 28);
}
