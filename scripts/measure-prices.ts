/**
 * Measures the list prices Claude Code itself charges per model, so that src/model-calls/prices.ts
 * can be checked against (and regenerated from) Claude Code's own arithmetic rather than guessed.
 * For each model, one `claude -p` run per token kind: the scripted model answers with 100,000
 * tokens of that kind only (below the 200K long-context threshold), and the run's
 * `modelUsage[model].costUSD` divided by 0.1 is the price per million tokens of that kind.
 * Run: npx vite-node scripts/measure-prices.ts [model ...]   (prints JSON; takes ~3 s per run)
 */
import { makeTempProject, runClaude } from '../test/support/claude-cli.js';
import { createModelServer, scenario, text, withUsage, type Usage } from '../test/support/model-server.js';

const UNIT = 100_000;
const KINDS: Record<string, Usage> = {
  input: { input_tokens: UNIT, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
  output: { input_tokens: 0, output_tokens: UNIT, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
  cacheRead: { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: UNIT, cache_creation_input_tokens: 0 },
  cacheWrite5m: { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: UNIT, cache_creation: { ephemeral_5m_input_tokens: UNIT, ephemeral_1h_input_tokens: 0 } },
  cacheWrite1h: { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: UNIT, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: UNIT } },
};
const ZERO: Usage = { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };

async function price(model: string, usage: Usage): Promise<number | string> {
  const project = makeTempProject('cc-price-');
  const ms = await createModelServer(scenario({ main: () => withUsage(text('ok'), usage, model), side: () => withUsage(text('t'), ZERO) }));
  try {
    const r = await runClaude({ cwd: project.dir, home: project.home, baseUrl: ms.url, prompt: 'price', extraArgs: ['--model', model] });
    const mu = (r.json?.modelUsage ?? {}) as Record<string, { costUSD?: number }>;
    const cost = mu[model]?.costUSD;
    return cost === undefined ? `no cost (${Object.keys(mu).join(',')})` : Math.round((cost / (UNIT / 1e6)) * 1e6) / 1e6;
  } finally {
    await ms.close();
    project.cleanup();
  }
}

const models = process.argv.slice(2);
const out: Record<string, Record<string, number | string>> = {};
for (const model of models) {
  out[model] = {};
  for (const [kind, usage] of Object.entries(KINDS)) out[model]![kind] = await price(model, usage);
  process.stderr.write(`${model} ${JSON.stringify(out[model])}\n`);
}
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
