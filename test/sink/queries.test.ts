import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSinkConfig } from '../../src/sink/config.js';
import { createPostgresSink } from '../../src/sink/postgres/sink.js';
import { normalizeLogs, normalizeTraces } from '../../src/sink/records.js';
import { type TestDatabase, createTestDatabase } from './support/pg.js';
import { documentedQueries } from './support/queries-doc.js';
import { buildSyntheticSession } from './support/session.js';
import { createRecordingLogger } from './support/sink.js';

const queries = documentedQueries();

describe('docs/queries.md', () => {
  let db: TestDatabase;
  const now = Date.now();
  const recent = buildSyntheticSession({ startMs: now - 3_600_000 });
  const old = buildSyntheticSession({ startMs: now - 3 * 86_400_000 });
  const sink = () => createPostgresSink(parseSinkConfig({ postgres: { url: db.url } }).postgres!, { log: createRecordingLogger() });

  beforeAll(async () => {
    db = await createTestDatabase('queries');
    const pg = sink();
    await pg.start();
    for (const s of [recent, old]) {
      await pg.consume({ spans: normalizeTraces(s.traces as never).records, logs: normalizeLogs(s.logs as never).records });
    }
    await pg.shutdown();
  });
  afterAll(async () => db?.drop());

  const run = async (name: string, params: unknown[] = []) => {
    const q = queries.get(name);
    if (!q) throw new Error(`query ${name} not in docs/queries.md`);
    return (await db.pool.query(q.sql, params)).rows;
  };

  it('finds every documented query', () => {
    expect([...queries.keys()]).toEqual([
      'session-tree', 'slowest-tools-24h', 'slowest-tool-calls-24h', 'error-rate-per-tool-hourly',
      'sessions-by-total-time', 'session-summaries', 'tool-stats', 'cost-per-day-by-project-and-model',
      'most-expensive-sessions', 'most-expensive-turns', 'cost-per-subagent-type', 'cache-hit-ratio',
      'permission-denials', 'retention',
    ]);
  });

  it('session-tree: depth-first tree of one session', async () => {
    const rows = await run('session-tree', [recent.sessionId]);
    expect(rows).toHaveLength(recent.spans.length);
    expect(rows[0]).toMatchObject({ depth: 0, kind: 'session' });
    const grep = rows.findIndex((r) => r.tool_name === 'Grep');
    expect(rows[grep]!.depth).toBe(4); // root > turn > Agent tool > subagent > Grep
    expect(rows[grep - 1]).toMatchObject({ kind: 'subagent' });
    expect(rows.at(-1)).toMatchObject({ tool_name: 'Read', depth: 2 }); // turn 2's tool comes last
  });

  it('slowest tools and calls cover only the last 24 h', async () => {
    const tools = await run('slowest-tools-24h');
    expect(tools[0]).toMatchObject({ tool_name: 'Agent', calls: '1' });
    expect(tools.find((t) => t.tool_name === 'Bash')).toMatchObject({ calls: '2', max_ms: 1200 });
    const calls = await run('slowest-tool-calls-24h');
    expect(calls[0]).toMatchObject({ tool_name: 'Agent', session_id: recent.sessionId });
    expect(calls.every((c) => c.session_id === recent.sessionId)).toBe(true);
  });

  it('error-rate-per-tool-hourly', async () => {
    const rows = await run('error-rate-per-tool-hourly');
    const bash = rows.find((r) => r.tool_name === 'Bash');
    expect(bash).toMatchObject({ calls: '2', errors: '1', error_rate: '0.500' });
  });

  it('sessions-by-total-time', async () => {
    const rows = await run('sessions-by-total-time');
    expect(rows.map((r) => r.session_id).sort()).toEqual([recent.sessionId, old.sessionId].sort());
    expect(rows[0]).toMatchObject({ duration_ms: 600_000, end_reason: 'prompt_input_exit' });
  });

  it('session-summaries and tool-stats views', async () => {
    const s = await run('session-summaries');
    expect(s[0]).toMatchObject({ session_id: recent.sessionId, turns: '2', tool_calls: '9', tool_errors: '2', subagents: '1', ended: true });
    const t = await run('tool-stats');
    expect(t.find((r) => r.tool_name === 'Bash')).toMatchObject({ calls: '4', errors: '2', error_rate: '0.5000' });
    expect(t.find((r) => r.tool_name === 'WebFetch')).toMatchObject({ slow_calls: '2' });
  });

  it('permission-denials', async () => {
    const rows = await run('permission-denials', [recent.sessionId]);
    expect(rows).toEqual([expect.objectContaining({ tool_name: 'Edit', span_id: recent.ids['tool/toolu_edit1'] })]);
  });

  it.each([...queries.entries()].filter(([, q]) => q.indexed).map(([name]) => name))('%s plans without a sequential scan', async (name) => {
    const client = await db.pool.connect();
    try {
      await client.query('SET enable_seqscan = off');
      const params = queries.get(name)!.sql.includes('$1') ? [recent.sessionId] : [];
      const plan = (await client.query(`EXPLAIN ${queries.get(name)!.sql}`, params)).rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).not.toMatch(/Seq Scan on (spans|log_records)_p/);
    } finally {
      client.release();
    }
  });

  it('retention drops partitions past the cut-off and nothing newer', async () => {
    const pg = sink();
    await pg.start();
    const before = (await db.pool.query("SELECT count(*)::int AS n FROM spans")).rows[0].n;
    const { dropped } = await pg.maintain(new Date(now + 13 * 86_400_000)); // 14 days of retention: cut-off = yesterday
    await pg.shutdown();
    expect(dropped).toBeGreaterThanOrEqual(2); // the old session's spans and logs partitions
    const after = await db.pool.query('SELECT DISTINCT session_id FROM spans');
    expect(after.rows.map((r) => r.session_id)).toEqual([recent.sessionId]);
    expect(before).toBe(2 * recent.spans.length);
    expect((await run('retention'))[0]).toMatchObject({ spans_dropped: 0 });
  });
});
