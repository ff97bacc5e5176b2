/** Text helpers for terminal output. Widths count code points; every glyph used is one column. */

/** 850ms · 3.2s · 4m05s · 1h02m */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)}s`;
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 3600) {
    const m = Math.floor(totalSeconds / 60);
    const s = totalSeconds % 60;
    return `${m}m${String(s).padStart(2, '0')}s`;
  }
  const totalMinutes = Math.round(ms / 60_000);
  const h = Math.floor(totalMinutes / 60);
  const m = totalMinutes % 60;
  return `${h}h${String(m).padStart(2, '0')}m`;
}

/** Removes control characters (ANSI escapes from captured text must not reach the terminal)
 * and folds whitespace runs, newlines included, into one space. */
export function sanitize(text: string): string {
  return text
    .replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function textWidth(text: string): number {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

/** Cuts to `width` columns, ending in '…' when cut. */
export function truncateEnd(text: string, width: number): string {
  if (width <= 0) return '';
  const chars = [...text];
  if (chars.length <= width) return text;
  return chars.slice(0, width - 1).join('') + '…';
}

/** Cuts to `width` columns, starting with '…' when cut (keeps the end of paths). */
export function truncateStart(text: string, width: number): string {
  if (width <= 0) return '';
  const chars = [...text];
  if (chars.length <= width) return text;
  return '…' + chars.slice(chars.length - width + 1).join('');
}

export function padEnd(text: string, width: number): string {
  const w = textWidth(text);
  return w >= width ? text : text + ' '.repeat(width - w);
}

export function padStart(text: string, width: number): string {
  const w = textWidth(text);
  return w >= width ? text : ' '.repeat(width - w) + text;
}

export type Style = 'red' | 'green' | 'yellow' | 'dim' | 'bold' | 'cyan';
const CODES: Record<Style, [number, number]> = {
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
  dim: [2, 22],
  bold: [1, 22],
};

/** A painter: identity when color is off. */
export function painter(color: boolean): (style: Style | undefined, text: string) => string {
  return (style, text) => {
    if (!color || !style || text.length === 0) return text;
    const [open, close] = CODES[style];
    return `\u001b[${open}m${text}\u001b[${close}m`;
  };
}

/** 2025-06-01 12:00:00Z (UTC, second precision). */
export function formatTimestamp(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** "3m ago" style age; "just now" under 5 s. */
export function formatAge(ms: number): string {
  if (ms < 5_000) return 'just now';
  if (ms >= 48 * 3_600_000) return `${Math.floor(ms / 86_400_000)}d ago`;
  return `${formatDuration(ms).replace(/\.\d(?=s$)/, '')} ago`;
}

/** Fits a path into `width` columns, dropping leading segments: …/projects/claude-otel-bridge */
export function fitPath(path: string, width: number): string {
  if (textWidth(path) <= width) return path;
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i += 1) {
    const tail = '…/' + parts.slice(i).join('/');
    if (textWidth(tail) <= width) return tail;
  }
  return truncateStart(path, width);
}
