// The local stack's discovery against this machine's real PostgreSQL (127.0.0.1:5432 and its
// socket) and Redis (127.0.0.1:6379); what is absent is a free port nobody listens on.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { discover, discoveryConfig, SOCKET_DIRS } from '../../src/sink/discover.js';
import { parseSinkConfig } from '../../src/sink/config.js';
import { PG_ADMIN_URL } from './support/pg.js';
import { freePort } from '../support/ports.js';

const base = `cob_discover_${process.pid}_${Date.now().toString(36)}`;
const made: string[] = [];

async function dropAll(): Promise<void> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  for (const db of made) await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await c.end();
}

async function exists(db: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
  await c.end();
  return r.rowCount === 1;
}

describe('sink discover', () => {
  afterAll(dropAll);

  it('finds PostgreSQL on 127.0.0.1:5432 as the current user, creates the database once, and Redis on 6379', async () => {
    const db = `${base}_tcp`;
    made.push(db);
    expect(await exists(db)).toBe(false);
    const d = await discover({ database: db, redisPrefix: 'cob-discover:v1' });
    expect(d.missing).toEqual([]);
    expect(d.postgres?.note).toMatch(/127\.0\.0\.1:5432 .*\(created\)/);
    expect(await exists(db)).toBe(true);
    const again = await discover({ database: db });
    expect(again.postgres?.note).not.toMatch(/created/);
    expect(again.postgres?.url).toBe(d.postgres?.url);
    // The file the stack hands the sink is a valid sink config with both destinations.
    const config = parseSinkConfig(discoveryConfig(d));
    expect(config.postgres?.url).toBe(d.postgres!.url);
    expect(config.redis).toMatchObject({ url: 'redis://127.0.0.1:6379', keyPrefix: 'cob-discover:v1' });
    const c = new pg.Client({ connectionString: config.postgres!.url });
    await c.connect();
    expect((await c.query('SELECT current_database() AS db')).rows[0].db).toBe(db);
    await c.end();
  });

  const socketDir = SOCKET_DIRS.find((d) => existsSync(join(d, '.s.PGSQL.5432')));
  it.runIf(socketDir)('finds PostgreSQL through the local socket when TCP is not tried', async () => {
    const db = `${base}_sock`;
    made.push(db);
    const d = await discover({ database: db, pgTcp: false });
    expect(d.postgres?.note).toContain(`socket ${socketDir}`);
    const c = new pg.Client({ connectionString: d.postgres!.url });
    await c.connect();
    expect((await c.query('SELECT current_database() AS db')).rows[0].db).toBe(db);
    await c.end();
  });

  it('says which one it did not find and how to point the sink at it', async () => {
    const port = await freePort();
    const d = await discover({ database: `${base}_none`, pgPort: port, redisTarget: `127.0.0.1:${port}`, socketDirs: [], timeoutMs: 500 });
    expect(d.postgres).toBeUndefined();
    expect(d.redis).toBeUndefined();
    expect(d.missing).toHaveLength(2);
    expect(d.missing[0]).toMatch(new RegExp(`postgres: not found \\(tried .*127\\.0\\.0\\.1:${port}\\).*--postgres-url .*CLAUDE_OTEL_SINK_POSTGRES_URL`));
    expect(d.missing[1]).toMatch(new RegExp(`redis: not found at 127\\.0\\.0\\.1:${port}.*--redis-url .*CLAUDE_OTEL_SINK_REDIS_URL`));
    expect(discoveryConfig(d)).toEqual({});
  });

  it('names a server that refuses the user, instead of calling it absent', async () => {
    const d = await discover({ database: `${base}_role`, user: 'cob_no_such_role', socketDirs: [] });
    expect(d.postgres).toBeUndefined();
    expect(d.missing[0]).toMatch(/postgres: found at 127\.0\.0\.1:5432, but cob_no_such_role cannot use it .*--postgres-url/);
    expect(await exists(`${base}_role`)).toBe(false);
  });

  it('checks a given URL instead of probing, and never prints its password', async () => {
    const port = await freePort();
    const d = await discover({ postgresUrl: `postgresql://u:hunter2@127.0.0.1:${port}/x`, redisUrl: `redis://:hunter2@127.0.0.1:${port}`, timeoutMs: 500 });
    expect(d.missing.join('\n')).not.toContain('hunter2');
    expect(d.missing[0]).toMatch(/postgres: postgresql:\/\/\*{4}:\*{4}@127\.0\.0\.1:\d+\/x \(given\) does not answer/); // masked as the config's URLs are (maskUrl)
    expect(d.missing[1]).toMatch(/redis: .*\(given\) does not answer/);
  });

  it('refuses a database name or key prefix that is not a plain identifier', async () => {
    await expect(discover({ database: 'x"; DROP' })).rejects.toThrow(/database name/);
    await expect(discover({ redisPrefix: 'a b' })).rejects.toThrow(/redis prefix/);
  });
});
