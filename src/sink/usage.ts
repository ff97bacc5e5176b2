/**
 * The model-call figures of a span (docs/trace-model.md, "Model calls and roll-ups"), promoted for
 * the destinations: on a `chat` span its own models, tokens and cost; on a turn, subagent or
 * session span the roll-up the agent put there. Pure; a value that is not what the trace model
 * says (a negative or fractional token count, a cost that is not a finite number ≥ 0, an
 * unsafe-integer string) is left out (null) rather than guessed; it stays in `attributes`.
 */

/** Null where the span carries no such attribute (e.g. a tool span: all null). */
export interface SpanUsage {
  /** `gen_ai.request.model` (chat spans). */
  requestModel: string | null;
  /** `gen_ai.response.model` (chat spans). */
  responseModel: string | null;
  /** `gen_ai.usage.input_tokens`: input including cache reads and writes (the conventions' sum). */
  inputTokens: number | null;
  outputTokens: number | null;
  /** `gen_ai.usage.cache_read.input_tokens`. */
  cacheReadTokens: number | null;
  /** `gen_ai.usage.cache_creation.input_tokens`. */
  cacheCreationTokens: number | null;
  /** `claude_code.cost.usd`: a call's price-table cost, or the roll-up's (on the root: Claude Code's own). */
  costUsd: number | null;
  /** `claude_code.model_calls` on roll-ups; 1 on a chat span. */
  modelCalls: number | null;
}

const tokens = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null);
const cost = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);
const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export function spanUsage(attrs: Record<string, unknown>): SpanUsage {
  const chat = attrs['claude_code.span.kind'] === 'model_call';
  return {
    requestModel: text(attrs['gen_ai.request.model']),
    responseModel: text(attrs['gen_ai.response.model']),
    inputTokens: tokens(attrs['gen_ai.usage.input_tokens']),
    outputTokens: tokens(attrs['gen_ai.usage.output_tokens']),
    cacheReadTokens: tokens(attrs['gen_ai.usage.cache_read.input_tokens']),
    cacheCreationTokens: tokens(attrs['gen_ai.usage.cache_creation.input_tokens']),
    costUsd: cost(attrs['claude_code.cost.usd']),
    modelCalls: chat ? 1 : tokens(attrs['claude_code.model_calls']),
  };
}
