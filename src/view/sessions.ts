import type { SessionSummary } from '../store/session-summary.js';
import { formatCost } from './cost.js';
import { formatDuration, padEnd, padStart, painter, sanitize, textWidth, truncateEnd } from './format.js';

export interface SessionsTableOptions {
  /** Columns available (default 80). */
  width?: number;
  color?: boolean;
}

/** 06-01 09:14Z (UTC; the store keeps days, not years) */
function formatStart(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return '?';
  return new Date(ms).toISOString().slice(5, 16).replace('T', ' ') + 'Z';
}

/** The project directory's name: the last path segment. */
function projectOf(cwd: string): string {
  const parts = sanitize(cwd).split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? cwd;
}

/**
 * Shortest prefixes (at least `min` characters) that tell the ids apart; ids shorter than
 * that stay whole. Any of them is accepted by `trace <prefix>`.
 */
export function shortIds(ids: readonly string[], min = 8): string[] {
  return ids.map((id) => {
    let n = Math.min(id.length, min);
    while (n < id.length && ids.some((other) => other !== id && other.startsWith(id.slice(0, n)))) n += 1;
    return id.slice(0, n);
  });
}

/** The session's cost; `+?` when some calls are unpriced, `?` when all are, `-` without model calls. */
function costOf(s: SessionSummary): string {
  if (s.costUsd === undefined) return s.modelCalls ? '?' : '-';
  return s.unpricedCalls ? `${formatCost(s.costUsd)}+?` : formatCost(s.costUsd);
}

type Align = 'left' | 'right';
interface Column {
  title: string;
  align: Align;
  cells: string[];
}

/** Pure: sessions as an aligned table, one row each, in the given order. */
export function renderSessionsTable(sessions: readonly SessionSummary[], options: SessionsTableOptions = {}): string {
  const width = Math.max(40, Math.floor(options.width ?? 80));
  const paint = painter(options.color ?? false);
  const ids = shortIds(sessions.map((s) => sanitize(s.sessionId)));
  const columns: Column[] = [
    { title: 'SESSION', align: 'left', cells: ids },
    { title: 'STARTED', align: 'left', cells: sessions.map((s) => formatStart(s.start)) },
    { title: 'DURATION', align: 'right', cells: sessions.map((s) => formatDuration(s.durationMs)) },
    { title: 'TURNS', align: 'right', cells: sessions.map((s) => String(s.turns)) },
    { title: 'TOOLS', align: 'right', cells: sessions.map((s) => String(s.tools)) },
    { title: 'ERRORS', align: 'right', cells: sessions.map((s) => String(s.errors)) },
    { title: 'COST', align: 'right', cells: sessions.map(costOf) },
    { title: 'STATE', align: 'left', cells: sessions.map((s) => (s.open ? 'open' : 'ended')) },
  ];
  const widths = columns.map((c) => Math.max(textWidth(c.title), ...c.cells.map(textWidth)));
  const fixed = widths.reduce((a, b) => a + b, 0) + 2 * columns.length;
  const cwdWidth = width - fixed;
  const showCwd = cwdWidth >= 8;
  const cwdCells = sessions.map((s) => (s.cwd ? truncateEnd(projectOf(s.cwd), Math.max(0, cwdWidth)) : ''));

  const cell = (text: string, w: number, align: Align): string => (align === 'left' ? padEnd(text, w) : padStart(text, w));
  const lines: string[] = [];
  const head = columns.map((c, i) => cell(c.title, widths[i]!, c.align)).join('  ') + (showCwd ? '  PROJECT' : '');
  lines.push(paint('bold', head.trimEnd()));
  sessions.forEach((s, row) => {
    const parts = columns.map((c, i) => {
      const text = cell(c.cells[row]!, widths[i]!, c.align);
      if (c.title === 'ERRORS' && s.errors > 0) return paint('red', text);
      if (c.title === 'STATE' && s.open) return paint('yellow', text);
      return text;
    });
    lines.push((parts.join('  ') + (showCwd ? '  ' + cwdCells[row] : '')).trimEnd());
  });
  return lines.join('\n') + '\n';
}
