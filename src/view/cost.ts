/**
 * Model-call figures for the terminal views: a span's cost cell, a session's usage line, money and
 * token counts in few characters. Pure. The figures are the span attributes of docs/trace-model.md
 * ("Model calls and roll-ups"): a chat span's own cost, a turn's, subagent's or session's roll-up.
 */
import type { SessionUsage } from '../store/session-usage.js';
import type { StoredSpan } from '../store/stored-span.js';

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

/** $12.34 · $0.123 · $0.0109 · $0.0012 · <$0.0001 · $0 */
export function formatCost(usd: number): string {
  if (usd === 0) return '$0';
  if (usd >= 1) return `$${usd.toFixed(2)}`;
  if (usd >= 0.1) return `$${usd.toFixed(3)}`;
  if (usd >= 0.0001) return `$${usd.toFixed(4)}`;
  return '<$0.0001';
}

/** 950 · 16.8k · 2.4M */
export function formatTokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0).replace(/\.0$/, '')}k`;
  return `${(n / 1_000_000).toFixed(1).replace(/\.0$/, '')}M`;
}

/**
 * The cost shown on a span's row: its `claude_code.cost.usd`, `+?` appended when some of its calls
 * are unpriced; `?` for an unpriced chat span; '' for spans without model calls.
 */
export function costCell(span: StoredSpan): string {
  const a = span.attributes;
  const cost = num(a['claude_code.cost.usd']);
  if (a['claude_code.span.kind'] === 'model_call') return cost === undefined ? '?' : formatCost(cost);
  if (cost === undefined) return '';
  return (num(a['claude_code.model_calls.unpriced']) ?? 0) > 0 ? `${formatCost(cost)}+?` : formatCost(cost);
}

/** "5 model calls · 16.8k tokens in (87% cached) · 160 out · $0.0109", or undefined without calls. */
export function usageLine(u: SessionUsage): string | undefined {
  if (u.modelCalls === 0) return undefined;
  const parts = [`${u.modelCalls} model call${u.modelCalls === 1 ? '' : 's'}`];
  const cached = u.inputTokens > 0 ? ` (${Math.round((100 * u.cacheReadTokens) / u.inputTokens)}% cached)` : '';
  parts.push(`${formatTokens(u.inputTokens)} tokens in${cached}`, `${formatTokens(u.outputTokens)} out`);
  if (u.costUsd !== undefined) parts.push(u.unpricedCalls > 0 ? `${formatCost(u.costUsd)} + ${u.unpricedCalls} unpriced` : formatCost(u.costUsd));
  else parts.push(`${u.unpricedCalls} unpriced`);
  return parts.join(' · ');
}
