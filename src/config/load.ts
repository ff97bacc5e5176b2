/**
 * Layered config loading: flags > env (CLAUDE_OTEL_*, then standard OTEL_*) > config file
 * ($CLAUDE_OTEL_HOME/config.json) > profile defaults > built-in defaults. Validated once.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { ATOMIC_PATHS, FIELDS, FLAG_ALIASES, fieldSpec, type FieldKind } from './fields.js';
import { BASE_DEFAULTS, PROFILE_OVERRIDES, detectProfile } from './profiles.js';
import { PROFILES, configSchema, type Config, type ConfigSource, type Profile } from './schema.js';
import { ConfigError, describeIssue, fixText, type ConfigIssue } from './errors.js';

export { ConfigError, type ConfigIssue } from './errors.js';

export type EnvLike = Readonly<Record<string, string | undefined>>;
export type FlagValue = string | number | boolean | readonly string[] | undefined;

export interface LoadConfigOptions {
  /** Environment to read (default: process.env). */
  env?: EnvLike;
  /** Command-line values keyed by dotted path (`agent.port`) or alias (`port`, `transport`, `home`, `config`). */
  flags?: Readonly<Record<string, FlagValue>>;
  /** The user's home directory (default: os.homedir()); CLAUDE_OTEL_HOME defaults to `<home>/.claude-otel`. */
  home?: string;
  /** File reader (tests); returns undefined when the file does not exist. */
  readFile?: (path: string) => string | undefined;
}

export interface LoadedConfig {
  config: Config;
  /** Where each leaf value came from, keyed by dotted path. */
  sources: Record<string, ConfigSource>;
  /** Human-readable origin of each leaf: `env CLAUDE_OTEL_PORT`, `flag --port`, `file /x/config.json`, ... */
  origins: Record<string, string>;
  /** Why this profile was chosen. */
  profileReason: string;
  configFile: { path: string; found: boolean };
}

type Tree = Record<string, unknown>;

const isPlainObject = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

const defaultReadFile = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
};

function expandHome(p: string, userHome: string): string {
  if (p === '~') return userHome;
  if (p.startsWith('~/')) return join(userHome, p.slice(2));
  return isAbsolute(p) ? p : resolve(p);
}

/** Parses a string from env or a flag into the field's type; throws ConfigError naming the field. */
export function parseFieldValue(path: string, raw: FlagValue, origin: string): unknown {
  const spec = fieldSpec(path);
  if (!spec) {
    throw new ConfigError([
      { path, problem: 'is not a known setting', fix: 'check the name against docs/configuration.md', origin },
    ]);
  }
  if (typeof raw !== 'string') return raw;
  const fail = (problem: string): never => {
    throw new ConfigError([{ path, problem, fix: fixText(origin, spec.expect), origin }]);
  };
  const value = raw.trim();
  const kind: FieldKind = spec.kind;
  switch (kind) {
    case 'int':
      if (!/^-?\d+$/.test(value)) fail(`${JSON.stringify(raw)} is not a whole number`);
      return Number(value);
    case 'number': {
      const n = Number(value);
      if (value === '' || !Number.isFinite(n)) fail(`${JSON.stringify(raw)} is not a number`);
      return n;
    }
    case 'bool': {
      const v = value.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off', ''].includes(v)) return false;
      return fail(`${JSON.stringify(raw)} is not a boolean`);
    }
    case 'kvlist':
      return parseKeyValueList(value, (problem) => fail(problem));
    case 'list': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        return fail(`${JSON.stringify(raw)} is not a JSON array of strings`);
      }
      if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === 'string')) {
        fail(`${JSON.stringify(raw)} is not a JSON array of strings`);
      }
      return parsed;
    }
    case 'string':
      return value;
  }
}

/** `k1=v1,k2=v2` as in OTEL_EXPORTER_OTLP_HEADERS / OTEL_RESOURCE_ATTRIBUTES (values percent-decoded). */
export function parseKeyValueList(text: string, fail: (problem: string) => never): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of text.split(',')) {
    if (item.trim() === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) fail(`the entry ${JSON.stringify(item.trim().slice(0, 40))} is not key=value`);
    const key = item.slice(0, eq).trim();
    const rawValue = item.slice(eq + 1).trim();
    let value: string;
    try {
      value = decodeURIComponent(rawValue);
    } catch {
      value = rawValue;
    }
    out[key] = value;
  }
  return out;
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(node[part])) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts[parts.length - 1] as string] = value;
}

export function getPath(tree: unknown, path: string): unknown {
  let node: unknown = tree;
  for (const part of path.split('.')) {
    if (!isPlainObject(node)) return undefined;
    node = node[part];
  }
  return node;
}

/** Leaves of a partial config tree; atomic paths, arrays and primitives are leaves. */
function flatten(tree: Tree, prefix = ''): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(value) && !ATOMIC_PATHS.has(path) && Object.keys(value).length > 0) {
      out.push(...flatten(value, path));
    } else {
      out.push([path, value]);
    }
  }
  return out;
}

interface Layer {
  source: ConfigSource;
  values: [path: string, value: unknown, origin: string][];
}

function envLayer(env: EnvLike): Layer {
  const values: Layer['values'] = [];
  for (const spec of FIELDS) {
    if (spec.path === 'profile' || spec.path === 'home') continue;
    for (const name of spec.env) {
      const raw = env[name];
      if (raw === undefined || raw === '') continue;
      values.push([spec.path, parseFieldValue(spec.path, raw, `env ${name}`), `env ${name}`]);
    }
  }
  return { source: 'env', values };
}

function flagPath(name: string): string {
  return FLAG_ALIASES[name] ?? name;
}

function flagLayer(flags: Readonly<Record<string, FlagValue>>): Layer {
  const values: Layer['values'] = [];
  for (const [name, raw] of Object.entries(flags)) {
    if (raw === undefined) continue;
    const path = flagPath(name);
    if (path === 'profile' || path === 'home' || path === 'config') continue;
    const origin = `flag --${name}`;
    values.push([path, parseFieldValue(path, raw, origin), origin]);
  }
  return { source: 'flag', values };
}

function readConfigFile(path: string, read: (p: string) => string | undefined): Tree | undefined {
  const text = read(path);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([
      {
        path: '(config file)',
        problem: `${path} is not valid JSON (${(err as Error).message})`,
        fix: `correct the JSON syntax in ${path}, or move the file away to use the defaults`,
        origin: `file ${path}`,
      },
    ]);
  }
  if (!isPlainObject(parsed)) {
    throw new ConfigError([
      {
        path: '(config file)',
        problem: `${path} must hold a JSON object`,
        fix: 'write the settings as { "capture": { ... }, ... }',
        origin: `file ${path}`,
      },
    ]);
  }
  if ('home' in parsed) {
    throw new ConfigError([
      {
        path: 'home',
        problem: 'cannot be set in config.json, because it decides where config.json is read from',
        fix: 'remove "home" from the file and set CLAUDE_OTEL_HOME instead',
        origin: `file ${path}`,
      },
    ]);
  }
  return parsed;
}

function chooseProfile(
  flags: Readonly<Record<string, FlagValue>>,
  env: EnvLike,
  file: Tree | undefined,
  filePath: string,
): { value: unknown; source: ConfigSource; origin: string; reason: string } {
  if (flags.profile !== undefined) return { value: flags.profile, source: 'flag', origin: 'flag --profile', reason: 'set by --profile' };
  if (env.CLAUDE_OTEL_PROFILE) {
    return { value: env.CLAUDE_OTEL_PROFILE.trim(), source: 'env', origin: 'env CLAUDE_OTEL_PROFILE', reason: 'set by CLAUDE_OTEL_PROFILE' };
  }
  if (file && file.profile !== undefined) {
    return { value: file.profile, source: 'file', origin: `file ${filePath}`, reason: `set in ${filePath}` };
  }
  const detected = detectProfile(env);
  return { value: detected.profile, source: 'default', origin: detected.reason, reason: detected.reason };
}

const structuredCloneTree = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const flags = options.flags ?? {};
  const userHome = options.home ?? homedir();
  const read = options.readFile ?? defaultReadFile;

  const sources: Record<string, ConfigSource> = {};
  const origins: Record<string, string> = {};

  // State directory first: it locates the config file.
  let home: string;
  if (typeof flags.home === 'string') {
    home = expandHome(flags.home, userHome);
    sources.home = 'flag';
    origins.home = 'flag --home';
  } else if (env.CLAUDE_OTEL_HOME) {
    home = expandHome(env.CLAUDE_OTEL_HOME, userHome);
    sources.home = 'env';
    origins.home = 'env CLAUDE_OTEL_HOME';
  } else {
    home = join(userHome, '.claude-otel');
    sources.home = 'default';
    origins.home = 'default';
  }
  const configPath =
    typeof flags.config === 'string'
      ? expandHome(flags.config, userHome)
      : env.CLAUDE_OTEL_CONFIG
        ? expandHome(env.CLAUDE_OTEL_CONFIG, userHome)
        : join(home, 'config.json');
  const file = readConfigFile(configPath, read);

  // Parse env and flags before anything else so a typo there is reported even if the file is fine.
  const layers: Layer[] = [];
  const profileChoice = chooseProfile(flags, env, file, configPath);
  if (typeof profileChoice.value !== 'string' || !(PROFILES as readonly string[]).includes(profileChoice.value)) {
    throw new ConfigError([
      {
        path: 'profile',
        problem: `${JSON.stringify(profileChoice.value)} is not a profile`,
        fix: 'use production, development or testing',
        origin: profileChoice.origin,
      },
    ]);
  }
  const profile = profileChoice.value as Profile;

  const merged: Tree = structuredCloneTree(BASE_DEFAULTS) as unknown as Tree;
  for (const [path] of flatten(merged)) {
    sources[path] = 'default';
    origins[path] = 'default';
  }
  layers.push({
    source: 'profile',
    values: flatten(PROFILE_OVERRIDES[profile] as Tree).map(([p, v]) => [p, structuredCloneTree(v), `profile ${profile}`]),
  });
  if (file) {
    const { profile: _p, $schema: _s, ...rest } = file;
    layers.push({ source: 'file', values: flatten(rest).map(([p, v]) => [p, v, `file ${configPath}`]) });
  }
  layers.push(envLayer(env));
  layers.push(flagLayer(flags));

  for (const layer of layers) {
    for (const [path, value, origin] of layer.values) {
      // A layer that sets a whole subtree (e.g. perTool.Bash) replaces the leaves below it.
      for (const known of Object.keys(sources)) {
        if (known.startsWith(`${path}.`)) {
          delete sources[known];
          delete origins[known];
        }
      }
      setPath(merged, path, value);
      sources[path] = layer.source;
      origins[path] = origin;
    }
  }

  fillPerToolGaps(merged, sources, origins);
  merged.profile = profile;
  merged.home = home;
  sources.profile = profileChoice.source;
  origins.profile = profileChoice.origin;

  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => describeIssue(issue, (path) => getPath(merged, path), origins, configPath)));
  }
  return {
    config: parsed.data,
    sources: sortKeys(sources),
    origins: sortKeys(origins),
    profileReason: profileChoice.reason,
    configFile: { path: configPath, found: file !== undefined },
  };
}

/** A per-tool entry that sets only some of fastMs/slowMs/verySlowMs inherits the rest from thresholds.default. */
function fillPerToolGaps(merged: Tree, sources: Record<string, ConfigSource>, origins: Record<string, string>): void {
  const perTool = getPath(merged, 'thresholds.perTool');
  const def = getPath(merged, 'thresholds.default');
  if (!isPlainObject(perTool) || !isPlainObject(def)) return;
  for (const [tool, entry] of Object.entries(perTool)) {
    if (!isPlainObject(entry)) continue;
    for (const key of ['fastMs', 'slowMs', 'verySlowMs']) {
      if (entry[key] === undefined && def[key] !== undefined) {
        entry[key] = def[key];
        const path = `thresholds.perTool.${tool}.${key}`;
        sources[path] = sources[`thresholds.default.${key}`] ?? 'default';
        origins[path] = `${origins[`thresholds.default.${key}`] ?? 'default'} (thresholds.default)`;
      }
    }
  }
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

/** The URL to export a signal to: the signal-specific endpoint as is, else `<base>/v1/<signal>`. */
export function otlpSignalUrl(config: Config, signal: 'traces' | 'logs' | 'metrics'): string | undefined {
  if (signal === 'traces' && config.export.otlpTracesEndpoint) return config.export.otlpTracesEndpoint;
  if (signal === 'logs' && config.export.otlpLogsEndpoint) return config.export.otlpLogsEndpoint;
  const base = config.export.otlpEndpoint;
  if (!base) return undefined;
  return `${base.replace(/\/+$/, '')}/v1/${signal}`;
}
