/** Text for `claude-otel config`: every effective value with its source, secrets masked. */
import { createRedactor } from '../privacy/redact.js';
import type { LoadedConfig } from './load.js';
import { getPath } from './load.js';
import type { Config } from './schema.js';

export const MASK = '****';

const redactor = createRedactor();

/** Masks credentials in a URL (user:password@, secret-looking query values) and anything the redactor finds. */
export function maskUrl(url: string): string {
  let out = url;
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = u.username ? MASK : '';
      u.password = u.password ? MASK : '';
    }
    for (const key of [...u.searchParams.keys()]) {
      if (/key|token|secret|sig|auth|pass|code/i.test(key)) u.searchParams.set(key, MASK);
    }
    out = u.toString();
  } catch {
    // not a URL: the redactor still runs
  }
  return redactor.redact(out).text;
}

/** A copy of the config with header values masked and endpoint credentials hidden. */
export function maskConfig(config: Config): Config {
  const copy = JSON.parse(JSON.stringify(config)) as Config;
  copy.export.otlpHeaders = Object.fromEntries(Object.keys(config.export.otlpHeaders).map((k) => [k, MASK]));
  if (copy.export.otlpEndpoint) copy.export.otlpEndpoint = maskUrl(copy.export.otlpEndpoint);
  if (copy.export.otlpTracesEndpoint) copy.export.otlpTracesEndpoint = maskUrl(copy.export.otlpTracesEndpoint);
  if (copy.export.otlpLogsEndpoint) copy.export.otlpLogsEndpoint = maskUrl(copy.export.otlpLogsEndpoint);
  copy.export.resourceAttributes = Object.fromEntries(
    Object.entries(config.export.resourceAttributes).map(([k, v]) => [k, redactor.redact(v).text]),
  );
  return copy;
}

export function formatEffectiveConfig(result: LoadedConfig): string {
  const masked = maskConfig(result.config);
  const lines: string[] = [
    'claude-otel effective configuration',
    `profile:     ${result.config.profile} (${result.profileReason})`,
    `config file: ${result.configFile.path}${result.configFile.found ? '' : ' (not found; defaults apply)'}`,
    `precedence:  flag > env > file > profile > default`,
    '',
  ];
  const rows: (readonly [string, string, string])[] = Object.keys(result.sources).map((path) => {
    const value = getPath(masked, path);
    const shown = value === undefined ? '(unset)' : JSON.stringify(value);
    return [path, shown, result.origins[path] ?? result.sources[path] ?? ''] as const;
  });
  // Optional fields that are unset still deserve a line, so users see they exist.
  for (const optional of ['export.otlpEndpoint', 'export.otlpTracesEndpoint']) {
    if (!(optional in result.sources)) rows.push([optional, '(unset)', 'default']);
  }
  rows.sort(([a], [b]) => a.localeCompare(b));
  const width = Math.max(...rows.map(([p]) => p.length)) + 2;
  const valueWidth = Math.min(48, Math.max(...rows.map(([, v]) => v.length)) + 2);
  for (const [path, shown, origin] of rows) {
    lines.push(`${path.padEnd(width)}${shown.padEnd(valueWidth)}  [${origin}]`);
  }
  return `${lines.join('\n')}\n`;
}
