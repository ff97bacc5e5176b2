/**
 * A session's model calls from its stored spans: token sums over the chat spans and its cost, by
 * the rule of session_summaries in docs/queries.md. Pure.
 */
import type { StoredSpan } from './stored-span.js';

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

export interface SessionUsage {
  modelCalls: number;
  unpricedCalls: number;
  /** Input including cache reads and writes (gen_ai.usage.input_tokens). */
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  /** The figure of the last closed root or resumed segment, else the sum of the priced calls. */
  costUsd?: number;
}

/** Sums over a session's chat spans, and its cost (the rule of docs/queries.md's session_summaries). */
export function sessionUsage(spans: readonly StoredSpan[]): SessionUsage {
  const u: SessionUsage = { modelCalls: 0, unpricedCalls: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0 };
  let priced: number | undefined;
  let closed: { endNs: bigint; cost: number } | undefined;
  for (const s of spans) {
    const a = s.attributes;
    const kind = a['claude_code.span.kind'];
    if (kind === 'model_call') {
      u.modelCalls += 1;
      u.inputTokens += num(a['gen_ai.usage.input_tokens']) ?? 0;
      u.outputTokens += num(a['gen_ai.usage.output_tokens']) ?? 0;
      u.cacheReadTokens += num(a['gen_ai.usage.cache_read.input_tokens']) ?? 0;
      const c = num(a['claude_code.cost.usd']);
      if (c === undefined) u.unpricedCalls += 1;
      else priced = (priced ?? 0) + c;
    } else if (kind === 'session' || kind === 'segment') {
      const c = num(a['claude_code.cost.usd']);
      const endNs = BigInt(s.endTimeUnixNano);
      if (c !== undefined && (!closed || endNs > closed.endNs)) closed = { endNs, cost: c };
    }
  }
  const cost = closed?.cost ?? priced;
  if (cost !== undefined) u.costUsd = cost;
  return u;
}
