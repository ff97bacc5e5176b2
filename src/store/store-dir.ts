import { homedir as osHomedir } from 'node:os';
import { join } from 'node:path';

/** `${CLAUDE_OTEL_HOME ?? ~/.claude-otel}/store` */
export function defaultStoreDir(
  env: Record<string, string | undefined>,
  homedir: () => string = osHomedir,
): string {
  const home = env['CLAUDE_OTEL_HOME'];
  return join(home && home.length > 0 ? home : join(homedir(), '.claude-otel'), 'store');
}
