/** `claude-otel config`: prints the effective configuration and where each value came from. */
import { parseArgs } from 'node:util';
import { formatEffectiveConfig, maskConfig } from './format.js';
import type { CommandIo } from '../cli/io.js';
import { ConfigError, loadConfig } from './load.js';

export const CONFIG_USAGE = `Usage: claude-otel config [--json] [--profile NAME] [--config FILE]

Prints the effective configuration, each value with its source
(flag > env > file > profile > default). Secrets are masked.
`;

export function runConfigCommand(argv: readonly string[], io: CommandIo): number {
  let values: { json?: boolean; profile?: string; config?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        json: { type: 'boolean' },
        profile: { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    io.stderr(`claude-otel config: ${(err as Error).message}\n${CONFIG_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(CONFIG_USAGE);
    return 0;
  }
  try {
    const result = loadConfig({
      env: io.env,
      flags: { profile: values.profile, config: values.config },
      ...(io.homedir ? { home: io.homedir() } : {}),
    });
    if (values.json) {
      io.stdout(`${JSON.stringify({ config: maskConfig(result.config), sources: result.sources, origins: result.origins }, null, 2)}\n`);
    } else {
      io.stdout(formatEffectiveConfig(result));
    }
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
