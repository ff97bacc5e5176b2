/**
 * The shipped price table, for model calls whose cost the transcript does not state, and the one
 * function that prices a call. Prices are USD per million tokens, per kind: uncached input,
 * output, cache reads, cache writes with the 5-minute and the 1-hour TTL.
 *
 * Source and date: the list prices Claude Code 2.1.332 itself charges (its `costUSD` with
 * `costBasis: "list"`), measured on 2026-12-01 with scripts/measure-prices.ts (one run per model
 * and token kind against the scripted model server). The older models agree with Anthropic's
 * published pricing page (docs.anthropic.com/en/docs/about-claude/pricing: Sonnet 4 $3 / $3.75 /
 * $6 / $0.30 / $15, Haiku 3.5 $0.80 / $1 / $1.6 / $0.08 / $4). Models Claude Code 2.1.332 no longer
 * accepts (opus-4-1, opus-4) are not listed. Long-context (>200K input) surcharges are not
 * modelled. A model that is not here (nor in `modelCalls.prices`) is *unpriced*: counted, never
 * guessed.
 */
export const PRICES_AS_OF = '2026-12-01';
export const PRICES_SOURCE = 'Claude Code 2.1.332 list prices (scripts/measure-prices.ts)';

export interface ModelPrice {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
}

const p = (input: number, output: number, cacheRead: number, cacheWrite5m: number, cacheWrite1h: number): ModelPrice => ({ input, output, cacheRead, cacheWrite5m, cacheWrite1h });

export const PRICE_TABLE: Readonly<Record<string, ModelPrice>> = {
  'claude-opus-5-5': p(4, 20, 0.2, 5, 8),
  'claude-opus-5': p(5, 25, 0.5, 6.25, 10),
  'claude-opus-4-8': p(5, 25, 0.5, 6.25, 10),
  'claude-opus-4-7': p(5, 25, 0.5, 6.25, 10),
  'claude-opus-4-6': p(5, 25, 0.5, 6.25, 10),
  'claude-opus-4-5': p(5, 25, 0.5, 6.25, 10),
  'claude-sonnet-5-5': p(2, 10, 0.1, 2.5, 4),
  'claude-sonnet-5': p(2, 10, 0.2, 2.5, 4),
  'claude-sonnet-4-6': p(3, 15, 0.3, 3.75, 6),
  'claude-sonnet-4-5': p(3, 15, 0.3, 3.75, 6),
  'claude-sonnet-4': p(3, 15, 0.3, 3.75, 6),
  'claude-haiku-5-5': p(0.1, 0.5, 0.01, 0.125, 0.2),
  'claude-haiku-4-5': p(1, 5, 0.1, 1.25, 2),
  'claude-3-5-haiku': p(0.8, 4, 0.08, 1, 1.6),
};

/** Model ids as Claude Code and the API spell them → the table's key: date suffix, `-0`, `[1m]`, `-v1` dropped. */
export function priceKey(model: string): string {
  return model
    .toLowerCase()
    .replace(/\[[^\]]*\]$/, '')
    .replace(/-v\d+(:\d+)?$/, '')
    .replace(/-\d{8}$/, '')
    .replace(/^(claude-(?:opus|sonnet|haiku)-\d+)-0$/, '$1')
    .replace(/^(?:[a-z]{2}\.)?anthropic\./, '');
}

export interface TokenCounts {
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
  cacheCreation1h: number;
}

export type Pricer = (model: string | undefined, tokens: TokenCounts) => number | undefined;

/** A pricer over the shipped table with the user's overrides (exact model ids or price keys) on top. */
export function createPricer(overrides: Readonly<Record<string, ModelPrice>> = {}): Pricer {
  const table = new Map<string, ModelPrice>(Object.entries(PRICE_TABLE));
  for (const [model, price] of Object.entries(overrides)) table.set(priceKey(model), price);
  const exact = new Map(Object.entries(overrides));
  return (model, t) => {
    if (!model) return undefined;
    const price = exact.get(model) ?? table.get(priceKey(model));
    if (!price) return undefined;
    const oneHour = Math.min(t.cacheCreation1h, t.cacheCreation);
    const micros =
      t.input * price.input + t.output * price.output + t.cacheRead * price.cacheRead +
      (t.cacheCreation - oneHour) * price.cacheWrite5m + oneHour * price.cacheWrite1h;
    return micros / 1e6;
  };
}
