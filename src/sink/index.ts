import { mkdirSync } from 'node:fs';
import { writeFileAtomic } from '../shared/home.js';
import { dirname } from 'node:path';
import { SINK_ENV, type SinkConfig, SinkConfigError, loadSinkConfig } from './config.js';
import { discover, discoveryConfig } from './discover.js';
import { createConsoleLogger } from './destination.js';
import { migrate } from './postgres/migrate.js';
import { createPgPool } from './postgres/pool.js';
import { createSinkService } from './service.js';
import { createWebhookDispatcher } from './webhooks/dispatcher.js';
import { listDead, requeueDead } from './webhooks/outbox.js';

export { loadSinkConfig, parseSinkConfig, sinkConfigSchema, SINK_ENV } from './config.js';
export type { SinkConfig, SinkConfigInput } from './config.js';
export { createSinkService } from './service.js';
export type { SinkService, SinkServiceOptions } from './service.js';

const USAGE = `usage: claude-otel sink [--config FILE]              run the sink (OTLP/HTTP JSON on 127.0.0.1:4400)
       claude-otel sink migrate [--config FILE]      apply Postgres migrations
       claude-otel sink discover [--write FILE] [--postgres-db NAME] [--redis-prefix P]
                                 [--postgres-url URL] [--redis-url URL]
                                 find this machine's PostgreSQL and Redis (scripts/stack.sh)
       claude-otel sink dead-letters list [--config FILE] [--limit N]
       claude-otel sink dead-letters replay ID [--config FILE]   ID: outbox id or webhook-id
The collector must send Authorization: Bearer $CLAUDE_OTEL_SINK_TOKEN (or the content of
CLAUDE_OTEL_SINK_TOKEN_FILE); without a token the sink serves loopback only (docs/sinks.md).`;

export interface SinkCommandIo {
  env?: Record<string, string | undefined>;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** Resolves when the running sink should stop (default: SIGINT/SIGTERM). */
  stopSignal?: Promise<unknown>;
}

interface Parsed {
  positional: string[];
  config?: string | undefined;
  limit: number;
  discover: Record<string, string>;
}

const DISCOVER_FLAGS = new Set(['--write', '--postgres-db', '--redis-prefix', '--postgres-url', '--redis-url']);

function parseArgs(argv: string[]): Parsed {
  const out: Parsed = { positional: [], limit: 50, discover: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (DISCOVER_FLAGS.has(a)) {
      const v = argv[++i];
      if (!v) throw new SinkConfigError(`${a} needs a value`);
      out.discover[a.slice(2)] = v;
    } else if (a === '--config' || a === '-c') out.config = argv[++i];
    else if (a.startsWith('--config=')) out.config = a.slice(9);
    else if (a === '--limit') out.limit = Number(argv[++i]);
    else if (a === '--help' || a === '-h') out.positional.unshift('help');
    else if (a.startsWith('-')) throw new SinkConfigError(`unknown option ${a}`);
    else out.positional.push(a);
  }
  if (argv.includes('--config') && !out.config) throw new SinkConfigError('--config needs a file');
  if (!Number.isInteger(out.limit) || out.limit <= 0) throw new SinkConfigError('--limit must be a positive integer');
  return out;
}

function requirePostgres(config: SinkConfig) {
  if (!config.postgres?.enabled) throw new SinkConfigError('postgres is not configured (postgres.url or CLAUDE_OTEL_SINK_POSTGRES_URL)');
  return config.postgres;
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (s: string) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(s);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/**
 * `sink discover`: one line per destination found or missing, and (--write) the sink config file
 * for what was found. Exit 0 even when nothing was found: the stack starts the sink anyway.
 */
async function runDiscover(flags: Record<string, string>, env: Record<string, string | undefined>, stdout: NodeJS.WritableStream): Promise<number> {
  const postgresUrl = flags['postgres-url'] ?? env[SINK_ENV.postgresUrl];
  const redisUrl = flags['redis-url'] ?? env[SINK_ENV.redisUrl];
  let d;
  try {
    d = await discover({
      ...(flags['postgres-db'] ? { database: flags['postgres-db'] } : {}),
      ...(flags['redis-prefix'] ? { redisPrefix: flags['redis-prefix'] } : {}),
      ...(postgresUrl ? { postgresUrl } : {}),
      ...(redisUrl ? { redisUrl } : {}),
    });
  } catch (err) {
    throw new SinkConfigError((err as Error).message);
  }
  for (const f of [d.postgres, d.redis]) if (f) stdout.write(`found ${f.note}\n`);
  for (const m of d.missing) stdout.write(`MISSING ${m}\n`);
  if (flags.write) {
    const file = flags.write;
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomic(file, `${JSON.stringify(discoveryConfig(d), null, 2)}\n`, 0o600); // it can hold a database password
  }
  return 0;
}

/** `claude-otel sink ...` (argv after "sink"). Returns the exit code. */
export async function runSinkCommand(argv: string[], io: SinkCommandIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const log = createConsoleLogger(stderr);
  try {
    const args = parseArgs(argv);
    const [cmd, sub, id] = args.positional;
    if (cmd === 'help') {
      stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (cmd === 'discover') return await runDiscover(args.discover, io.env ?? process.env, stdout);
    if (Object.keys(args.discover).length) throw new SinkConfigError(`--${Object.keys(args.discover)[0]} is an option of \`sink discover\``);
    const config = await loadSinkConfig({ file: args.config, env: io.env ?? process.env });
    if (cmd === undefined) {
      const service = createSinkService(config, { log });
      await service.start();
      await (io.stopSignal ?? waitForSignal());
      await service.shutdown();
      return 0;
    }
    if (cmd === 'migrate') {
      const pg = requirePostgres(config);
      const pool = createPgPool({ url: pg.url, max: 1, log });
      try {
        const r = await migrate(pool);
        stdout.write(r.applied.length ? `applied: ${r.applied.join(', ')}\n` : `up to date (version ${r.current})\n`);
      } finally {
        await pool.end();
      }
      return 0;
    }
    if (cmd === 'dead-letters' && (sub === 'list' || sub === 'replay')) {
      const pg = requirePostgres(config);
      const pool = createPgPool({ url: pg.url, max: 2, log });
      try {
        if (sub === 'list') {
          const rows = await listDead(pool, args.limit);
          for (const r of rows) {
            stdout.write(`${r.id}\t${r.webhook_id}\t${r.destination}\t${r.event_type}\tattempts=${r.attempts}\t${r.updated_at.toISOString()}\t${r.last_error ?? ''}\n`);
          }
          if (!rows.length) stderr.write('no dead letters\n');
          return 0;
        }
        if (!id) throw new SinkConfigError('dead-letters replay needs an ID');
        const row = await requeueDead(pool, id);
        if (!row) {
          stderr.write(`no dead letter with id ${id}\n`);
          return 1;
        }
        if (!config.webhooks?.destinations.some((d) => d.name === row.destination)) {
          stderr.write(`requeued ${row.webhook_id}; destination ${row.destination} is not in this config, a running sink must deliver it\n`);
          return 0;
        }
        const dispatcher = createWebhookDispatcher(config.webhooks, { pool: () => pool, log, poll: false });
        await dispatcher.start();
        await dispatcher.runOnce([row.id]);
        await dispatcher.shutdown();
        const state = await pool.query<{ state: string; last_error: string | null }>('SELECT state, last_error FROM webhook_outbox WHERE id = $1', [row.id]);
        const s = state.rows[0];
        stdout.write(`${row.webhook_id}: ${s?.state}${s?.last_error ? ` (${s.last_error})` : ''}\n`);
        return s?.state === 'delivered' ? 0 : 1;
      } finally {
        await pool.end();
      }
    }
    stderr.write(`${USAGE}\n`);
    return 2;
  } catch (err) {
    stderr.write(`claude-otel sink: ${(err as Error).message}\n`);
    return err instanceof SinkConfigError ? 2 : 1;
  }
}
