import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { packagePath } from '../../shared/package-root.js';
import type pg from 'pg';

/** migrations/ at the package root (the repository's, or the bundled plugin's copy). */
export const DEFAULT_MIGRATIONS_DIR = `${packagePath('migrations')}/`;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationResult {
  applied: string[];
  current: number;
}

const FILE = /^(\d{4})_([a-z0-9_-]+)\.sql$/;
const LOCK_KEY = 728_374_611; // pg_advisory_lock key shared by every sink process

export async function loadMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((f) => FILE.test(f)).sort();
  const out: Migration[] = [];
  for (const file of names) {
    const m = FILE.exec(file)!;
    const sql = await readFile(`${dir}/${file}`, 'utf8');
    out.push({ version: Number(m[1]), name: m[2]!, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return out;
}

/**
 * Applies pending migrations, each in its own transaction, under an advisory lock so that
 * several sinks starting at once do not race. Refuses to run when an applied file changed.
 */
export async function migrate(pool: pg.Pool, dir: string = DEFAULT_MIGRATIONS_DIR): Promise<MigrationResult> {
  const migrations = await loadMigrations(dir);
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number; checksum: string; name: string }>(
      'SELECT version, checksum, name FROM schema_migrations',
    );
    const done = new Map(rows.map((r) => [r.version, r]));
    const applied: string[] = [];
    for (const m of migrations) {
      const prev = done.get(m.version);
      if (prev) {
        if (prev.checksum !== m.checksum) {
          throw new Error(`migration ${m.version}_${m.name} was changed after it was applied (checksum mismatch)`);
        }
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
          m.version, m.name, m.checksum,
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw new Error(`migration ${m.version}_${m.name} failed: ${(err as Error).message}`);
      }
      applied.push(`${String(m.version).padStart(4, '0')}_${m.name}`);
    }
    const current = Math.max(0, ...migrations.map((m) => m.version));
    return { applied, current };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {});
    client.release();
  }
}
