import pg from 'pg';

export const PG_ADMIN_URL = process.env.CLAUDE_OTEL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  name: string;
  url: string;
  /** URL with host/port replaced (e.g. to go through a fault-injecting proxy). */
  urlVia(port: number): string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** A fresh database per test file, dropped afterwards. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `sink_${label}_${process.pid}_${Date.now().toString(36)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 3 });
  pool.on('error', () => {});
  return {
    name,
    url: url.toString(),
    urlVia(port: number) {
      const u = new URL(url.toString());
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    pool,
    async drop() {
      await pool.end().catch(() => {});
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
