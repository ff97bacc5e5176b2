/**
 * A session's model calls from its stored spans: token sums over the chat spans and its cost, by
 * the rule of session_summaries in docs/queries.md. Pure.
 */
import { spanUsage } from '../sink/usage.js';
import type { StoredSpan } from './stored-span.js';

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
    const kind = s.attributes['claude_code.span.kind'];
    if (kind !== 'model_call' && kind !== 'session' && kind !== 'segment') continue;
    // The one reading of a span's usage attributes (the sink's columns and the team source use it too).
    const usage = spanUsage(s.attributes);
    if (kind === 'model_call') {
      u.modelCalls += 1;
      u.inputTokens += usage.inputTokens ?? 0;
      u.outputTokens += usage.outputTokens ?? 0;
      u.cacheReadTokens += usage.cacheReadTokens ?? 0;
      if (usage.costUsd === null) u.unpricedCalls += 1;
      else priced = (priced ?? 0) + usage.costUsd;
    } else if (usage.costUsd !== null) {
      const endNs = BigInt(s.endTimeUnixNano);
      if (!closed || endNs > closed.endNs) closed = { endNs, cost: usage.costUsd };
    }
  }
  const cost = closed?.cost ?? priced;
  if (cost !== undefined) u.costUsd = cost;
  return u;
}
