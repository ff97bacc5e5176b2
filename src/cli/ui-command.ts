/**
 * `claude-otel ui`: starts the web view (src/ui/server.ts) on loopback and prints its URL with the
 * login token, as notebook servers do. Runs in the foreground until SIGINT/SIGTERM.
 *
 *   claude-otel ui [--port N] [--host 127.0.0.1|localhost|::1] [--dir STORE] [--jaeger-url URL]
 *   claude-otel ui --source team --postgres URL --redis URL [--redis-prefix P] [...]
 *
 * `--source team` reads the sink's PostgreSQL (read-only credentials: docs/ui.md) and follows its
 * Redis global span stream instead of the local store and agent.
 */
import { join } from 'node:path';
import { packagePath } from '../shared/package-root.js';
import { homePaths, resolveHome } from '../agent/paths.js';
import { defaultStoreDir } from '../store/store-dir.js';
import { KEY_PREFIX_HINT, KEY_PREFIX_RULE, REDIS_KEY_PREFIX } from '../sink/redis/keys.js';
import { createAgentLiveSource } from '../ui/agent-live.js';
import { ensureUiSecret } from '../ui/auth.js';
import { createLocalSource } from '../ui/local-source.js';
import { startUiServer } from '../ui/server.js';
import type { UiSource } from '../ui/source.js';
import { createTeamFeed } from '../ui/team-feed.js';
import { createTeamHistory } from '../ui/team-history.js';
import { createTeamSource } from '../ui/team-source.js';
import type { CommandIo } from './io.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export interface UiArgs {
  port: number;
  host: string;
  source: 'local' | 'team';
  dir?: string;
  jaegerUrl?: string;
  postgresUrl?: string;
  redisUrl?: string;
  redisPrefix: string;
}

/** The flags that take a value, and the environment variable each falls back to. */
const VALUE_FLAGS = {
  '--port': 'CLAUDE_OTEL_UI_PORT',
  '--host': undefined,
  '--dir': undefined,
  '--jaeger-url': 'CLAUDE_OTEL_JAEGER_URL',
  '--source': 'CLAUDE_OTEL_UI_SOURCE',
  '--postgres': 'CLAUDE_OTEL_UI_POSTGRES_URL',
  '--redis': 'CLAUDE_OTEL_UI_REDIS_URL',
  '--redis-prefix': 'CLAUDE_OTEL_UI_REDIS_PREFIX',
} as const;
type Flag = keyof typeof VALUE_FLAGS;
const isFlag = (f: string | undefined): f is Flag => f !== undefined && Object.hasOwn(VALUE_FLAGS, f);

/** Pure: flags (over CLAUDE_OTEL_UI_* / CLAUDE_OTEL_JAEGER_URL) → arguments, or a usage error. */
export function parseUiArgs(argv: string[], env: Record<string, string | undefined>): UiArgs | string {
  const values = new Map<Flag, string>();
  for (const [flag, name] of Object.entries(VALUE_FLAGS) as Array<[Flag, string | undefined]>) {
    const v = name ? env[name] : undefined;
    if (v) values.set(flag, v);
  }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (!isFlag(flag)) return `unknown argument '${flag}'`;
    const value = argv[++i];
    if (value === undefined) return `${flag} needs a value`;
    values.set(flag, value);
  }
  const source = values.get('--source') ?? 'local';
  if (source !== 'local' && source !== 'team') return '--source is local or team';
  const args: UiArgs = { port: Number(values.get('--port') ?? 0), host: values.get('--host') ?? '127.0.0.1', source, redisPrefix: values.get('--redis-prefix') ?? REDIS_KEY_PREFIX };
  const optional = { dir: '--dir', jaegerUrl: '--jaeger-url', postgresUrl: '--postgres', redisUrl: '--redis' } as const;
  for (const [k, flag] of Object.entries(optional) as Array<[keyof typeof optional, Flag]>) {
    const v = values.get(flag);
    if (v !== undefined) args[k] = v;
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) return 'the port must be 0..65535';
  if (!LOOPBACK.has(args.host)) return 'the web view listens on loopback only (127.0.0.1, localhost or ::1)';
  if (args.jaegerUrl !== undefined && !/^https?:\/\//.test(args.jaegerUrl)) return '--jaeger-url must be an http(s) URL';
  if (source === 'team') {
    if (!args.postgresUrl || !/^postgres(ql)?:\/\//.test(args.postgresUrl)) return '--source team needs --postgres postgres://… (or CLAUDE_OTEL_UI_POSTGRES_URL): read-only credentials';
    if (!args.redisUrl || !/^rediss?:\/\//.test(args.redisUrl)) return '--source team needs --redis redis://… (or CLAUDE_OTEL_UI_REDIS_URL)';
    if (!KEY_PREFIX_RULE.test(args.redisPrefix)) return `--redis-prefix: ${KEY_PREFIX_HINT}`;
    if (args.dir !== undefined) return '--dir is for the local source';
  } else if (args.postgresUrl || args.redisUrl) return '--postgres and --redis are for --source team';
  return args;
}

/** The team source, checked once at start (unreachable or not permitted: a readable error). */
async function teamSource(args: UiArgs): Promise<UiSource> {
  const history = createTeamHistory({ url: args.postgresUrl! });
  const feed = createTeamFeed({ url: args.redisUrl!, keyPrefix: args.redisPrefix });
  try {
    await history.listSessions('no-such-session-probe');
  } catch (err) {
    await Promise.allSettled([history.close(), feed.close()]);
    throw new Error(`cannot read the sink's PostgreSQL: ${(err as Error).message}`);
  }
  try {
    await feed.lastId();
  } catch (err) {
    await Promise.allSettled([history.close(), feed.close()]);
    throw new Error(`cannot read the sink's Redis stream: ${(err as Error).message}`);
  }
  return createTeamSource({ history, feed });
}

export async function runUiCommand(argv: string[], io: CommandIo): Promise<number> {
  const args = parseUiArgs(argv, io.env);
  if (typeof args === 'string') {
    io.stderr(
      `claude-otel ui: ${args}\nusage: claude-otel ui [--port N] [--host 127.0.0.1] [--dir STORE] [--jaeger-url URL]\n` +
        `       claude-otel ui --source team --postgres URL --redis URL [--redis-prefix P] [--port N] [--jaeger-url URL]\n`,
    );
    return 2;
  }
  const home = resolveHome(io.env as NodeJS.ProcessEnv);
  let source: UiSource;
  try {
    source = args.source === 'team' ? await teamSource(args) : createLocalSource({ storeDir: args.dir ?? defaultStoreDir(io.env), live: createAgentLiveSource(io.env) });
  } catch (err) {
    io.stderr(`claude-otel ui: ${(err as Error).message}\n`);
    return 1;
  }
  const server = await startUiServer({
    source,
    assetsDir: packagePath('dist', 'ui'),
    secret: ensureUiSecret(homePaths(home).uiToken),
    host: args.host === 'localhost' ? '127.0.0.1' : args.host,
    port: args.port,
    ...(args.jaegerUrl ? { jaegerUrl: args.jaegerUrl } : {}),
  });
  io.stdout(`claude-otel ui: serving the web view (${args.source === 'team' ? 'team: PostgreSQL + Redis' : 'local store'}) at\n    ${server.loginUrl}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return 0;
}
