import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSinkCommand } from '../../src/sink/index.js';
import { type TestDatabase, createTestDatabase } from './support/pg.js';

const capture = () => {
  let text = '';
  return { stream: new Writable({ write(c, _e, cb) { text += String(c); cb(); } }), text: () => text };
};

describe('runSinkCommand', () => {
  let db: TestDatabase;
  beforeAll(async () => { db = await createTestDatabase('cli'); });
  afterAll(async () => db?.drop());

  const run = async (argv: string[], env: Record<string, string> = {}) => {
    const out = capture();
    const err = capture();
    const code = await runSinkCommand(argv, { env, stdout: out.stream, stderr: err.stream, stopSignal: Promise.resolve() });
    return { code, out: out.text(), err: err.text() };
  };

  it('migrate applies every migration once, then reports up to date', async () => {
    const env = { CLAUDE_OTEL_SINK_POSTGRES_URL: db.url };
    expect(await run(['migrate'], env)).toMatchObject({ code: 0, out: 'applied: 0001_spans, 0002_logs, 0003_views, 0004_webhooks, 0005_model_calls, 0006_replicas, 0007_span_counts, 0008_webhook_in_doubt\n' });
    expect(await run(['migrate'], env)).toMatchObject({ code: 0, out: 'up to date (version 8)\n' });
    const r = await db.pool.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(r.rows.map((x) => x.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('exits 2 with a readable message on bad config or usage', async () => {
    expect(await run(['migrate'])).toMatchObject({ code: 2, err: expect.stringMatching(/postgres is not configured/) });
    expect(await run(['--config', '/nonexistent.yaml'])).toMatchObject({ code: 2, err: expect.stringMatching(/cannot read config/) });
    expect(await run(['frobnicate'])).toMatchObject({ code: 2, err: expect.stringMatching(/usage/) });
    expect(await run(['dead-letters', 'replay'], { CLAUDE_OTEL_SINK_POSTGRES_URL: db.url })).toMatchObject({ code: 2 });
  });

  it('serves until the stop signal, then exits 0', async () => {
    expect(await run([], { CLAUDE_OTEL_SINK_PORT: '0', CLAUDE_OTEL_SINK_POSTGRES_URL: db.url })).toMatchObject({ code: 0 });
  });
});
