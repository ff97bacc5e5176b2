/** `claude-otel agent [--port N] [--home DIR] [--profile P] [--detached]`: runs until SIGTERM or idle. */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.js';
import { AgentAlreadyRunning, startAgent } from '../agent/agent.js';
import type { CommandIo } from './io.js';

import { packageVersion } from '../shared/package-root.js';

export async function runAgentCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string' }, home: { type: 'string' }, profile: { type: 'string' }, config: { type: 'string' },
      detached: { type: 'boolean' },
    },
  });
  let loaded;
  try {
    const flags: Record<string, string> = {};
    for (const key of ['port', 'home', 'profile', 'config'] as const) if (values[key] !== undefined) flags[key] = values[key];
    loaded = loadConfig({ env: io.env, flags });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`claude-otel agent: refusing to start.\n${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const level = loaded.config.log.level;
  const log = level === 'silent' ? () => {} : (m: string) => io.stderr(`${new Date().toISOString()} ${m}\n`);
  try {
    const agent = await startAgent({ config: loaded.config, env: process.env, log, version: packageVersion() });
    const stop = (signal: string) => void agent.shutdown(signal);
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGHUP', () => stop('SIGHUP'));
    await agent.closed;
    return 0;
  } catch (err) {
    if (err instanceof AgentAlreadyRunning) {
      log(err.message);
      return 0;
    }
    throw err;
  }
}
