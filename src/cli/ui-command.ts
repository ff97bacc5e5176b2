/**
 * `claude-otel ui`: starts the web view (src/ui/server.ts) on loopback and prints its URL with the
 * login token, as notebook servers do. Runs in the foreground until SIGINT/SIGTERM.
 *
 *   claude-otel ui [--port N] [--host 127.0.0.1|localhost|::1] [--dir STORE] [--jaeger-url URL]
 */
import { join } from 'node:path';
import { packagePath } from '../shared/package-root.js';
import { homePaths, resolveHome } from '../agent/paths.js';
import { defaultStoreDir } from '../store/store-dir.js';
import { createAgentLiveSource } from '../ui/agent-live.js';
import { ensureUiSecret } from '../ui/auth.js';
import { startUiServer } from '../ui/server.js';
import type { CommandIo } from './io.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export interface UiArgs {
  port: number;
  host: string;
  dir?: string;
  jaegerUrl?: string;
}

/** Pure: flags (and CLAUDE_OTEL_UI_PORT / CLAUDE_OTEL_JAEGER_URL) → arguments, or a usage error. */
export function parseUiArgs(argv: string[], env: Record<string, string | undefined>): UiArgs | string {
  const args: UiArgs = { port: Number(env['CLAUDE_OTEL_UI_PORT'] ?? 0), host: '127.0.0.1' };
  const jaeger = env['CLAUDE_OTEL_JAEGER_URL'];
  if (jaeger) args.jaegerUrl = jaeger;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--port' || flag === '--host' || flag === '--dir' || flag === '--jaeger-url') {
      if (value === undefined) return `${flag} needs a value`;
      i++;
      if (flag === '--port') args.port = Number(value);
      else if (flag === '--host') args.host = value;
      else if (flag === '--dir') args.dir = value;
      else args.jaegerUrl = value;
    } else return `unknown argument '${flag}'`;
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) return 'the port must be 0..65535';
  if (!LOOPBACK.has(args.host)) return 'the web view listens on loopback only (127.0.0.1, localhost or ::1)';
  if (args.jaegerUrl !== undefined && !/^https?:\/\//.test(args.jaegerUrl)) return '--jaeger-url must be an http(s) URL';
  return args;
}

export async function runUiCommand(argv: string[], io: CommandIo): Promise<number> {
  const args = parseUiArgs(argv, io.env);
  if (typeof args === 'string') {
    io.stderr(`claude-otel ui: ${args}\nusage: claude-otel ui [--port N] [--host 127.0.0.1] [--dir STORE] [--jaeger-url URL]\n`);
    return 2;
  }
  const home = resolveHome(io.env as NodeJS.ProcessEnv);
  const server = await startUiServer({
    storeDir: args.dir ?? defaultStoreDir(io.env),
    assetsDir: packagePath('dist', 'ui'),
    secret: ensureUiSecret(join(homePaths(home).home, 'ui-token')),
    live: createAgentLiveSource(io.env),
    host: args.host === 'localhost' ? '127.0.0.1' : args.host,
    port: args.port,
    ...(args.jaegerUrl ? { jaegerUrl: args.jaegerUrl } : {}),
  });
  io.stdout(`claude-otel ui: serving the web view at\n    ${server.loginUrl}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return 0;
}
