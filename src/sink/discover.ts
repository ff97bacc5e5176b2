/**
 * `claude-otel sink discover`: finds the PostgreSQL and Redis of this machine for the local stack
 * (scripts/stack.sh), so `npm run stack:up` wires the whole fan-out with no environment set.
 * PostgreSQL: 127.0.0.1:5432, then the local sockets, as the current OS user; the database is
 * created when the server has none of that name and the user may create one. Redis: 127.0.0.1:6379.
 * What it found (or did not, and how to point the sink at it) is reported line by line; the result
 * is a sink config file (postgres.url, redis.url, redis.keyPrefix). The sink's own environment
 * (CLAUDE_OTEL_SINK_POSTGRES_URL / _REDIS_URL) still wins over that file.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createClient } from 'redis';
import { maskUrl } from '../config/format.js';
import { KEY_PREFIX_HINT, KEY_PREFIX_RULE, REDIS_KEY_PREFIX } from './redis/keys.js';

export const DEFAULT_STACK_DATABASE = 'claude_otel';
export const SOCKET_DIRS = ['/var/run/postgresql', '/run/postgresql', '/tmp'];
const DB_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface DiscoverOptions {
  database?: string;
  redisPrefix?: string;
  /** Given by the user (flag or env): used as is, only checked. */
  postgresUrl?: string;
  redisUrl?: string;
  user?: string;
  socketDirs?: string[];
  pgPort?: number;
  /** Try 127.0.0.1 (default true); false: the sockets only. */
  pgTcp?: boolean;
  redisTarget?: string;
  timeoutMs?: number;
}

export interface Found {
  url: string;
  /** One line for the user: where it was found, or why not and how to fix it. */
  note: string;
}

export interface Discovery {
  postgres?: Found;
  redis?: Found;
  redisPrefix: string;
  /** Lines for what was not found. */
  missing: string[];
}

interface PgTarget {
  label: string;
  url: (db: string) => string;
}

function pgTargets(user: string, port: number, socketDirs: string[], tcp: boolean): PgTarget[] {
  const u = encodeURIComponent(user);
  const targets: PgTarget[] = tcp ? [{ label: `127.0.0.1:${port}`, url: (db) => `postgresql://${u}@127.0.0.1:${port}/${db}` }] : [];
  for (const dir of socketDirs) {
    if (!existsSync(join(dir, `.s.PGSQL.${port}`))) continue;
    targets.push({ label: `socket ${dir}`, url: (db) => `postgresql://${u}@/${db}?host=${encodeURIComponent(dir)}&port=${port}` });
  }
  return targets;
}

type PgOutcome = { ok: true } | { ok: false; code?: string | undefined; message: string };

async function tryPg(url: string, timeoutMs: number, sql?: string): Promise<PgOutcome> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query(sql ?? 'SELECT 1');
    return { ok: true };
  } catch (err) {
    return { ok: false, code: (err as { code?: string }).code, message: (err as Error).message };
  } finally {
    await client.end().catch(() => {});
  }
}

const unreachable = (o: PgOutcome) => !o.ok && (o.code === 'ECONNREFUSED' || o.code === 'ENOENT' || o.code === 'EHOSTUNREACH' || /timeout/i.test(o.message));

async function discoverPostgres(o: Required<Pick<DiscoverOptions, 'database' | 'user' | 'socketDirs' | 'pgPort' | 'pgTcp' | 'timeoutMs'>>, missing: string[]): Promise<Found | undefined> {
  const tried: string[] = [];
  const targets = pgTargets(o.user, o.pgPort, o.socketDirs, o.pgTcp);
  if (!targets.some((t) => t.label.startsWith('socket'))) tried.push(`no socket .s.PGSQL.${o.pgPort} in ${o.socketDirs.join(', ')}`);
  for (const t of targets) {
    const first = await tryPg(t.url(o.database), o.timeoutMs);
    if (first.ok) return { url: t.url(o.database), note: `postgres: ${t.label} as ${o.user}, database ${o.database}` };
    if (unreachable(first)) {
      tried.push(t.label);
      continue;
    }
    if (first.code === '3D000') {
      // The server is there and lets us in, but has no such database: make it (needs CREATEDB).
      const made = await tryPg(t.url('postgres'), o.timeoutMs, `CREATE DATABASE "${o.database}"`);
      if (made.ok || (!made.ok && made.code === '42P04')) {
        return { url: t.url(o.database), note: `postgres: ${t.label} as ${o.user}, database ${o.database} (created)` };
      }
      missing.push(`postgres: found at ${t.label}, but database ${o.database} does not exist and ${o.user} could not create it (${made.message}): run \`createdb ${o.database}\` as a user who may, or pass --postgres-url postgresql://USER@HOST:5432/DB`);
      return undefined;
    }
    missing.push(`postgres: found at ${t.label}, but ${o.user} cannot use it (${first.message}): grant access (e.g. \`createuser ${o.user}\`), or pass --postgres-url postgresql://USER:PASSWORD@HOST:5432/DB (or set CLAUDE_OTEL_SINK_POSTGRES_URL)`);
    return undefined;
  }
  missing.push(`postgres: not found (tried ${tried.join(', ')}): start PostgreSQL, or pass --postgres-url postgresql://USER@HOST:5432/DB (or set CLAUDE_OTEL_SINK_POSTGRES_URL); spans are not stored in PostgreSQL until then`);
  return undefined;
}

async function pingRedis(url: string, timeoutMs: number): Promise<string | undefined> {
  const client = createClient({ url, socket: { connectTimeout: timeoutMs, reconnectStrategy: false } });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    await client.close().catch(() => {});
  }
}

export async function discover(options: DiscoverOptions = {}): Promise<Discovery> {
  const database = options.database ?? DEFAULT_STACK_DATABASE;
  const redisPrefix = options.redisPrefix ?? REDIS_KEY_PREFIX;
  if (!DB_NAME.test(database)) throw new Error(`database name must match ${DB_NAME.source}, got "${database}"`);
  if (!KEY_PREFIX_RULE.test(redisPrefix)) throw new Error(`redis prefix: ${KEY_PREFIX_HINT}, got ${JSON.stringify(redisPrefix)}`);
  const timeoutMs = options.timeoutMs ?? 2_000;
  const missing: string[] = [];
  const out: Discovery = { redisPrefix, missing };

  if (options.postgresUrl) {
    const r = await tryPg(options.postgresUrl, timeoutMs);
    if (r.ok) out.postgres = { url: options.postgresUrl, note: `postgres: ${maskUrl(options.postgresUrl)} (given)` };
    else missing.push(`postgres: ${maskUrl(options.postgresUrl)} (given) does not answer (${r.message}): fix the URL or start that server`);
  } else {
    const found = await discoverPostgres({ database, user: options.user ?? userInfo().username, socketDirs: options.socketDirs ?? SOCKET_DIRS, pgPort: options.pgPort ?? 5432, pgTcp: options.pgTcp ?? true, timeoutMs }, missing);
    if (found) out.postgres = found;
  }

  const redisUrl = options.redisUrl ?? `redis://${options.redisTarget ?? '127.0.0.1:6379'}`;
  const err = await pingRedis(redisUrl, timeoutMs);
  if (!err) out.redis = { url: redisUrl, note: `redis: ${maskUrl(redisUrl)}${options.redisUrl ? ' (given)' : ''}, key prefix ${redisPrefix}` };
  else if (options.redisUrl) missing.push(`redis: ${maskUrl(redisUrl)} (given) does not answer (${err}): fix the URL or start that server`);
  else missing.push(`redis: not found at ${redisUrl.slice('redis://'.length)} (${err}): start redis-server, or pass --redis-url redis://HOST:6379 (or set CLAUDE_OTEL_SINK_REDIS_URL); spans are not streamed to Redis until then`);
  return out;
}

/** The sink config file for what was found: only the destinations, the rest stays default. */
export function discoveryConfig(d: Discovery): Record<string, unknown> {
  return {
    ...(d.postgres ? { postgres: { url: d.postgres.url } } : {}),
    ...(d.redis ? { redis: { url: d.redis.url, keyPrefix: d.redisPrefix } } : {}),
  };
}
