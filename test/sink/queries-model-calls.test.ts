// The model-call and cost queries of docs/queries.md, run as written against a real session: the
// recorded 2.1.332 CLI session with its transcripts (main agent on claude-opus-5-5, a subagent on
// claude-haiku-5-5) replayed through the real agent, which reads the transcripts and exports over
// OTLP to the real sink, which writes PostgreSQL and Redis. Every figure is checked against what
// the fixture says: the scripted model's usage per response and Claude Code's own accounting
// (`total_cost_usd`, `modelUsage` of `claude -p --output-format json`).
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPricer } from '../../src/model-calls/prices.js';
import { DEFAULT_MIGRATIONS_DIR, migrate } from '../../src/sink/postgres/migrate.js';
import { type ExpectedUsage, type ReplayResult, replayTranscriptSession, transcriptExpected as expected } from '../support/transcript-replay.js';
import { waitUntil } from './support/http.js';
import { type TestDatabase, createTestDatabase } from './support/pg.js';
import { documentedQueries } from './support/queries-doc.js';
import { type TestSink, startTestSink, waitForStores } from './support/sink.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const queries = documentedQueries();

/** Token sums in the columns' meaning (input includes the cache kinds), from the scripted usage. */
function sums(usages: ExpectedUsage[]) {
  const t = { input: 0, output: 0, cacheRead: 0, cacheCreation: 0 };
  for (const u of usages) {
    t.input += u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens;
    t.output += u.output_tokens;
    t.cacheRead += u.cache_read_input_tokens;
    t.cacheCreation += u.cache_creation_input_tokens;
  }
  return t;
}
const columns = (r: Record<string, unknown>) => ({
  input: Number(r.input_tokens), output: Number(r.output_tokens), cacheRead: Number(r.cache_read_tokens), cacheCreation: Number(r.cache_creation_tokens),
});
const pricer = createPricer();
const priced = (rs: typeof expected.responses) =>
  rs.reduce((a, r) => a + pricer(r.model, { input: r.usage.input_tokens, output: r.usage.output_tokens, cacheRead: r.usage.cache_read_input_tokens, cacheCreation: r.usage.cache_creation_input_tokens, cacheCreation1h: 0 })!, 0);
const byModel = (model: string) => expected.responses.filter((r) => r.model === model);
const models = [...new Set(expected.responses.map((r) => r.model))].sort();
const sub = expected.responses.filter((r) => r.agent === 'subagent');

describe('model-call queries of docs/queries.md over a real session (agent → OTLP → sink → Postgres/Redis)', () => {
  let db: TestDatabase;
  let sink: TestSink;
  let replay: ReplayResult;
  const redis = createClient({ url: REDIS_URL });

  beforeAll(async () => {
    db = await createTestDatabase('model_calls');
    sink = await startTestSink({ postgres: { url: db.url }, redis: { url: REDIS_URL } });
    await waitForStores(sink);
    await redis.connect();
    replay = await replayTranscriptSession({ otlpEndpoint: sink.url, otlpHeaders: sink.auth });
    // The agent flushed its export on stop; the sink answers only once Postgres has the rows.
    await waitUntil(async () => (await db.pool.query("SELECT count(*)::int AS n FROM spans WHERE kind = 'session'")).rows[0].n === 1, 10_000, 'the root span');
  }, 60_000);
  afterAll(async () => {
    await sink?.service.shutdown();
    await redis.quit().catch(() => {});
    await db?.drop();
  });

  const run = async (name: string, params: unknown[] = []) => {
    const q = queries.get(name);
    if (!q) throw new Error(`query ${name} not in docs/queries.md`);
    return (await db.pool.query(q.sql, params)).rows as Record<string, unknown>[];
  };

  it('the fixture agrees with itself: the scripted usage per model is what Claude Code counted', () => {
    for (const m of models) {
      const own = expected.modelUsage[m]!;
      const s = sums(byModel(m).map((r) => r.usage));
      expect({ input: own.inputTokens + own.cacheReadInputTokens + own.cacheCreationInputTokens, output: own.outputTokens, cacheRead: own.cacheReadInputTokens, cacheCreation: own.cacheCreationInputTokens }).toEqual(s);
    }
  });

  it('one chat row per response, with its models, tokens and cost in the columns', async () => {
    const rows = (await db.pool.query("SELECT * FROM spans WHERE kind = 'model_call' ORDER BY start_time")).rows as Record<string, unknown>[];
    expect(rows.map((r) => (r.attributes as Record<string, unknown>)['gen_ai.response.id']).sort()).toEqual(expected.responses.map((r) => r.messageId).sort());
    for (const r of expected.responses) {
      const row = rows.find((x) => (x.attributes as Record<string, unknown>)['gen_ai.response.id'] === r.messageId)!;
      expect({ model: row.request_model, response: row.response_model, calls: row.model_calls, ...columns(row) }).toEqual({ model: r.model, response: r.model, calls: 1, ...sums([r.usage]) });
      expect(Number(row.cost_usd)).toBeCloseTo(priced([r]), 15);
    }
  });

  it('cost-per-day-by-project-and-model: per model exactly Claude Code\'s own tokens and cost', async () => {
    const rows = await run('cost-per-day-by-project-and-model');
    const today = new Date(replay.startedMs).toISOString().slice(0, 10);
    expect(rows.map((r) => [(r.day as Date).toISOString().slice(0, 10), r.project, r.model])).toEqual(
      // ordered by cost: the main agent's opus calls first
      [[today, 'project', 'claude-opus-5-5'], [today, 'project', 'claude-haiku-5-5']],
    );
    for (const row of rows) {
      const m = row.model as string;
      const own = expected.modelUsage[m]!;
      expect({ calls: Number(row.calls), unpriced: Number(row.unpriced_calls), ...columns(row) }).toEqual({ calls: byModel(m).length, unpriced: 0, ...sums(byModel(m).map((r) => r.usage)) });
      expect(Number(row.cost_usd)).toBeCloseTo(own.costUSD, 12);
    }
  });

  it('most-expensive-sessions: the session at Claude Code\'s own total_cost_usd, exactly', async () => {
    const rows = await run('most-expensive-sessions');
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({ session_id: expected.sessionId, project: 'project', cost_source: 'claude_code', model_calls: expected.responses.length });
    expect(Number(row.cost_usd)).toBe(expected.totalCostUsd);
    expect(columns(row)).toEqual(sums(expected.responses.map((r) => r.usage)));
  });

  it('most-expensive-turns: the one turn holds every call, its subagent\'s too', async () => {
    const rows = await run('most-expensive-turns');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ session_id: expected.sessionId, prompt_id: replay.promptId, turn: 1, model_calls: expected.responses.length });
    expect(columns(rows[0]!)).toEqual(sums(expected.responses.map((r) => r.usage)));
    expect(Number(rows[0]!.cost_usd)).toBeCloseTo(expected.totalCostUsd, 12);
  });

  it('cost-per-subagent-type: the general-purpose subagent\'s own calls', async () => {
    const rows = await run('cost-per-subagent-type');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ agent_type: 'general-purpose', subagents: '1', model_calls: String(sub.length) });
    expect(columns(rows[0]!)).toEqual(sums(sub.map((r) => r.usage)));
    expect(Number(rows[0]!.cost_usd)).toBeCloseTo(expected.modelUsage['claude-haiku-5-5']!.costUSD, 12);
  });

  it('cache-hit-ratio: cache reads over all input, per model', async () => {
    const rows = await run('cache-hit-ratio');
    expect(rows.map((r) => r.model)).toEqual(models);
    for (const row of rows) {
      const own = expected.modelUsage[row.model as string]!;
      const ratio = own.cacheReadInputTokens / (own.inputTokens + own.cacheReadInputTokens + own.cacheCreationInputTokens);
      expect(row.cache_hit_ratio).toBe(ratio.toFixed(4));
      expect(Number(row.calls)).toBe(byModel(row.model as string).length);
    }
  });

  it('session-summaries: the session\'s project, calls, tokens and Claude Code\'s cost', async () => {
    const rows = await run('session-summaries');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      session_id: expected.sessionId, turns: '1', tool_calls: '4', subagents: '1', ended: true, project: 'project',
      model_calls: String(expected.responses.length), unpriced_calls: '0', cost_source: 'claude_code',
    });
    expect(columns(rows[0]!)).toEqual(sums(expected.responses.map((r) => r.usage)));
    expect(Number(rows[0]!.cost_usd)).toBe(expected.totalCostUsd);
  });

  it('the Redis feed: each chat entry carries its models, tokens and cost; the root Claude Code\'s total', async () => {
    const raw = (await redis.sendCommand(['XRANGE', `${sink.prefix}:session:${expected.sessionId}`, '-', '+'])) as Array<[string, string[]]>;
    const spans = raw.map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [String(f[2 * i]), String(f[2 * i + 1])]))).filter((e) => e.type === 'span');
    const chats = spans.filter((e) => e.kind === 'model_call');
    expect(chats).toHaveLength(expected.responses.length);
    for (const r of expected.responses) {
      const e = chats.find((c) => (JSON.parse(c.json!) as { attributes: Record<string, unknown> }).attributes['gen_ai.response.id'] === r.messageId)!;
      const s = sums([r.usage]);
      expect(e).toMatchObject({ request_model: r.model, response_model: r.model, input_tokens: String(s.input), output_tokens: String(s.output), cache_read_tokens: String(s.cacheRead), cache_creation_tokens: String(s.cacheCreation), model_calls: '1' });
      expect(Number(e.cost_usd)).toBeCloseTo(priced([r]), 15);
    }
    const root = spans.find((e) => e.kind === 'session')!;
    expect(Number(root.cost_usd)).toBe(expected.totalCostUsd);
    expect({ input: Number(root.input_tokens), output: Number(root.output_tokens), cacheRead: Number(root.cache_read_tokens), cacheCreation: Number(root.cache_creation_tokens) }).toEqual(sums(expected.responses.map((r) => r.usage)));
    const tool = spans.find((e) => e.kind === 'tool')!;
    expect(Object.keys(tool).filter((k) => /tokens|cost|model/.test(k))).toEqual([]); // nothing where there is no usage
  });
});

describe('migration 0005 fills the new columns of rows written before it', () => {
  let db: TestDatabase;
  const dir = mkdtempSync(join(tmpdir(), 'cob-migrations-'));
  afterAll(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a chat span and a roll-up stored by the 0004 schema get their columns; bad values stay NULL', async () => {
    db = await createTestDatabase('migrate_0005');
    for (const f of readdirSync(DEFAULT_MIGRATIONS_DIR).filter((f) => f < '0005')) copyFileSync(join(DEFAULT_MIGRATIONS_DIR, f), join(dir, f));
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      expect((await migrate(pool, dir)).current).toBe(4);
      await pool.query("SELECT claude_otel_ensure_partition('spans', now()::date)");
      const r = expected.responses[0]!;
      const chat = {
        'claude_code.span.kind': 'model_call', 'gen_ai.request.model': r.model, 'gen_ai.response.model': r.model,
        'gen_ai.usage.input_tokens': sums([r.usage]).input, 'gen_ai.usage.output_tokens': r.usage.output_tokens,
        'gen_ai.usage.cache_read.input_tokens': r.usage.cache_read_input_tokens, 'gen_ai.usage.cache_creation.input_tokens': r.usage.cache_creation_input_tokens,
        'claude_code.cost.usd': 0.0011146,
      };
      const turn = { 'claude_code.span.kind': 'turn', 'gen_ai.usage.input_tokens': 1.5, 'gen_ai.usage.output_tokens': -3, 'claude_code.cost.usd': 'free', 'claude_code.model_calls': 5 };
      const insert = "INSERT INTO spans (trace_id, span_id, session_id, name, kind, start_time, attributes) VALUES ($1, $2, 's', $3, $4, now(), $5)";
      await pool.query(insert, ['a'.repeat(32), '1'.repeat(16), `chat ${r.model}`, 'model_call', chat]);
      await pool.query(insert, ['a'.repeat(32), '2'.repeat(16), 'claude_code.turn', 'turn', turn]);
      await pool.query(insert, ['a'.repeat(32), '3'.repeat(16), 'execute_tool Bash', 'tool', { 'claude_code.span.kind': 'tool' }]);
      expect((await migrate(pool)).applied).toEqual(['0005_model_calls', '0006_replicas', '0007_span_counts', '0008_webhook_in_doubt']);
      const rows = (await pool.query('SELECT kind, request_model, response_model, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd, model_calls FROM spans ORDER BY span_id')).rows;
      expect(rows).toEqual([
        { kind: 'model_call', request_model: r.model, response_model: r.model, input_tokens: String(sums([r.usage]).input), output_tokens: String(r.usage.output_tokens), cache_read_tokens: String(r.usage.cache_read_input_tokens), cache_creation_tokens: String(r.usage.cache_creation_input_tokens), cost_usd: '0.0011146', model_calls: 1 },
        { kind: 'turn', request_model: null, response_model: null, input_tokens: null, output_tokens: null, cache_read_tokens: null, cache_creation_tokens: null, cost_usd: null, model_calls: 5 },
        { kind: 'tool', request_model: null, response_model: null, input_tokens: null, output_tokens: null, cache_read_tokens: null, cache_creation_tokens: null, cost_usd: null, model_calls: null },
      ]);
    } finally {
      await pool.end();
    }
  });
});
