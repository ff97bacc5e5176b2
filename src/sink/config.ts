import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { KEY_PREFIX_HINT, KEY_PREFIX_RULE, REDIS_KEY_PREFIX } from './redis/keys.js';

/**
 * The sink's configuration: one zod schema (file + CLAUDE_OTEL_SINK_* env, validated once).
 * Security-relevant rules live here so a bad combination fails at start, not at the first
 * request: a non-loopback listener needs a token, webhooks need a token.
 */

/** Events a webhook destination can subscribe to. */
export const WEBHOOK_EVENT_TYPES = [
  'tool_failure',
  'slow_tool',
  'permission_denied',
  'session_end',
  'turn_failure',
  /** Once per session, when its cost crosses webhooks.sessionBudgetUsd (webhooks/budget.ts). */
  'session_over_budget',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const secretSchema = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'secret must look like whsec_<base64>');

const destinationSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'name must match ^[A-Za-z0-9_-]+$'),
  url: z.url({ protocol: /^https?$/ }),
  secret: secretSchema,
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1),
  format: z.enum(['standard', 'slack']).default('standard'),
  timeoutMs: z.number().int().positive().default(10_000),
});

const postgresSchema = z.strictObject({
  enabled: z.boolean().default(true),
  url: z.string().min(1),
  poolSize: z.number().int().positive().default(10),
  /** Days of partitions kept; older partitions are dropped. */
  retentionDays: z.number().int().positive().default(14),
  /** Daily partitions created ahead of today. */
  partitionsAhead: z.number().int().min(0).default(2),
  statementTimeoutMs: z.number().int().positive().default(10_000),
});

const redisSchema = z.strictObject({
  enabled: z.boolean().default(true),
  url: z.string().min(1),
  /** Prefix of every key (several deployments or test runs sharing one Redis). */
  keyPrefix: z.string().regex(KEY_PREFIX_RULE, `redis.keyPrefix: ${KEY_PREFIX_HINT}`).default(REDIS_KEY_PREFIX),
  globalMaxLen: z.number().int().positive().default(100_000),
  sessionMaxLen: z.number().int().positive().default(10_000),
  sessionTtlSeconds: z.number().int().positive().default(86_400),
  commandTimeoutMs: z.number().int().positive().default(5_000),
  /**
   * Distinct per-session streams one request may write. Records of further sessions still go
   * to the global stream (which carries session_id) and are counted, so one request cannot
   * create thousands of keys.
   */
  maxSessionStreamsPerBatch: z.number().int().positive().default(256),
});

const authSchema = z.strictObject({
  /** Bearer token the sender (the collector) must present on /v1/*. */
  token: z.string().min(16, 'auth.token must be at least 16 characters').regex(/^[\x21-\x7e]+$/, 'auth.token: printable ASCII, no spaces').optional(),
  /** A file holding the token (read at start; trailing newline ignored). */
  tokenFile: z.string().min(1).optional(),
});

/** Bounds on what one request and one record may hold (docs/sinks.md, "Limits"). */
const limitsSchema = z.strictObject({
  /** JSON nesting of the whole body, checked before parsing: deeper → 400. */
  maxJsonDepth: z.number().int().min(16).max(512).default(64),
  /** arrayValue/kvlistValue nesting inside one attribute value: deeper → the record is rejected. */
  maxValueDepth: z.number().int().min(1).max(32).default(8),
  /** Attributes per list (resource, span, event, log record). */
  maxAttributes: z.number().int().positive().default(256),
  /** Events per span. */
  maxEvents: z.number().int().positive().default(1_024),
  /** UTF-8 bytes of one string (attribute value, log body, status message). The agent caps captured content at 1 MiB. */
  maxValueBytes: z.number().int().positive().default(1_048_576),
  /** UTF-8 bytes of an attribute key. */
  maxKeyBytes: z.number().int().positive().default(256),
  /** UTF-8 bytes of an indexed or promoted column (session_id, tool_name, error_type, event_name, ...). */
  maxColumnBytes: z.number().int().min(36).max(2_000).default(256),
  /** UTF-8 bytes of a span name. */
  maxNameBytes: z.number().int().min(36).max(2_000).default(1_024),
  /** Records whose time is more than this many days before now are rejected (and counted). */
  pastDays: z.number().int().positive().default(7),
  /** ... or more than this many days after now. */
  futureDays: z.number().int().positive().default(1),
});
const LIMIT_DEFAULTS = limitsSchema.parse({});

const webhooksSchema = z.strictObject({
  enabled: z.boolean().default(true),
  destinations: z.array(destinationSchema).default([]),
  /** IPs or CIDRs that may be private/loopback/link-local (SSRF guard exceptions). */
  allowPrivateAddresses: z.array(z.string()).default([]),
  maxAttempts: z.number().int().positive().default(8),
  backoffBaseMs: z.number().int().positive().default(1_000),
  backoffMaxMs: z.number().int().positive().default(3_600_000),
  pollIntervalMs: z.number().int().positive().default(1_000),
  /** Outbox rows claimed per poll. */
  batchSize: z.number().int().positive().default(20),
  /** USD: a session whose cost crosses it sends `session_over_budget` (once) to destinations subscribed to it. */
  sessionBudgetUsd: z.number().positive().optional(),
});

export const sinkConfigSchema = z
  .strictObject({
    listen: z
      .strictObject({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65_535).default(4400),
      })
      .default({ host: '127.0.0.1', port: 4400 }),
    maxBodyBytes: z.number().int().positive().default(16 * 1024 * 1024),
    /** A destination slower than this answers 503 so the collector retries. */
    writeTimeoutMs: z.number().int().positive().default(5_000),
    /** Concurrent requests beyond this answer 429. */
    maxInFlight: z.number().int().positive().default(64),
    auth: authSchema.default({}),
    limits: limitsSchema.default(LIMIT_DEFAULTS),
    postgres: postgresSchema.optional(),
    redis: redisSchema.optional(),
    webhooks: webhooksSchema.optional(),
  })
  .superRefine((c, ctx) => {
    const hasToken = c.auth.token !== undefined || c.auth.tokenFile !== undefined;
    if (c.auth.token !== undefined && c.auth.tokenFile !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['auth'], message: 'set auth.token or auth.tokenFile, not both' });
    }
    if (!hasToken && !isLoopbackHost(c.listen.host)) {
      ctx.addIssue({
        code: 'custom',
        path: ['listen', 'host'],
        message: `refusing to listen on ${c.listen.host} without a token: set auth.token / auth.tokenFile (CLAUDE_OTEL_SINK_TOKEN / CLAUDE_OTEL_SINK_TOKEN_FILE) or listen on 127.0.0.1`,
      });
    }
    const hooks = c.webhooks?.enabled && (c.webhooks.destinations.length ?? 0) > 0;
    if (hooks && !c.postgres?.enabled) {
      ctx.addIssue({ code: 'custom', path: ['webhooks'], message: 'webhooks need postgres (durable outbox)' });
    }
    if (hooks && !hasToken) {
      ctx.addIssue({
        code: 'custom',
        path: ['webhooks'],
        message: 'webhooks need auth.token (CLAUDE_OTEL_SINK_TOKEN): signed webhooks are only sent for spans from an authenticated sender',
      });
    }
    const names = new Set<string>();
    for (const d of c.webhooks?.destinations ?? []) {
      if (d.events.includes('session_over_budget') && c.webhooks?.sessionBudgetUsd === undefined) {
        ctx.addIssue({ code: 'custom', path: ['webhooks', 'sessionBudgetUsd'], message: `destination ${d.name} subscribes to session_over_budget: set webhooks.sessionBudgetUsd` });
      }
      if (names.has(d.name)) {
        ctx.addIssue({ code: 'custom', path: ['webhooks', 'destinations'], message: `duplicate name ${d.name}` });
      }
      names.add(d.name);
    }
  });

export type SinkConfig = z.output<typeof sinkConfigSchema>;
export type SinkConfigInput = z.input<typeof sinkConfigSchema>;
export type WebhookDestinationConfig = z.output<typeof destinationSchema>;
export type WebhooksConfig = z.output<typeof webhooksSchema>;
export type PostgresConfig = z.output<typeof postgresSchema>;
export type RedisConfig = z.output<typeof redisSchema>;
export type LimitsConfig = z.output<typeof limitsSchema>;
export type AuthConfig = z.output<typeof authSchema>;

/** 127.0.0.0/8, ::1, localhost: only processes on this machine can connect. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

export class SinkConfigError extends Error {
  override name = 'SinkConfigError';
}

/** Every environment variable the sink reads. */
export const SINK_ENV = {
  config: 'CLAUDE_OTEL_SINK_CONFIG',
  host: 'CLAUDE_OTEL_SINK_HOST',
  port: 'CLAUDE_OTEL_SINK_PORT',
  postgresUrl: 'CLAUDE_OTEL_SINK_POSTGRES_URL',
  redisUrl: 'CLAUDE_OTEL_SINK_REDIS_URL',
  retentionDays: 'CLAUDE_OTEL_SINK_RETENTION_DAYS',
  webhookAllow: 'CLAUDE_OTEL_SINK_WEBHOOK_ALLOW',
  token: 'CLAUDE_OTEL_SINK_TOKEN',
  tokenFile: 'CLAUDE_OTEL_SINK_TOKEN_FILE',
} as const;

type Env = Record<string, string | undefined>;
type Obj = Record<string, unknown>;

function section(o: Obj, key: string): Obj {
  const v = o[key];
  if (v && typeof v === 'object' && !Array.isArray(v)) return v as Obj;
  const fresh: Obj = {};
  o[key] = fresh;
  return fresh;
}

function intFromEnv(name: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new SinkConfigError(`${name} must be an integer, got "${value}"`);
  return Number(value);
}

/** Layers env over the raw file object. Precedence: env > file > defaults. */
export function applyEnv(raw: Obj, env: Env): Obj {
  const out = structuredClone(raw);
  const v = (k: keyof typeof SINK_ENV): string | undefined => env[SINK_ENV[k]] || undefined;
  if (v('host')) section(out, 'listen').host = v('host');
  if (v('port')) section(out, 'listen').port = intFromEnv(SINK_ENV.port, v('port')!);
  if (v('postgresUrl')) section(out, 'postgres').url = v('postgresUrl');
  if (v('retentionDays')) {
    section(out, 'postgres').retentionDays = intFromEnv(SINK_ENV.retentionDays, v('retentionDays')!);
  }
  if (v('redisUrl')) section(out, 'redis').url = v('redisUrl');
  // Env wins over the file, whichever of the two forms either uses.
  if (v('token')) {
    section(out, 'auth').token = v('token');
    delete section(out, 'auth').tokenFile;
  } else if (v('tokenFile')) {
    section(out, 'auth').tokenFile = v('tokenFile');
    delete section(out, 'auth').token;
  }
  if (v('webhookAllow')) {
    section(out, 'webhooks').allowPrivateAddresses = v('webhookAllow')!.split(',').map((s) => s.trim()).filter(Boolean);
  }
  return out;
}

/** The token the sink requires, from auth.token or auth.tokenFile; undefined: none (loopback only). */
export async function resolveSinkToken(auth: AuthConfig): Promise<string | undefined> {
  if (auth.token !== undefined) return auth.token;
  if (auth.tokenFile === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(auth.tokenFile, 'utf8');
  } catch (err) {
    throw new SinkConfigError(`cannot read auth.tokenFile ${auth.tokenFile}: ${(err as Error).message}`);
  }
  const token = text.trim();
  const checked = authSchema.shape.token.safeParse(token);
  if (!checked.success || !token) {
    throw new SinkConfigError(`auth.tokenFile ${auth.tokenFile}: ${checked.error?.issues[0]?.message ?? 'empty'}`);
  }
  return token;
}

export function parseSinkConfig(raw: unknown): SinkConfig {
  const result = sinkConfigSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new SinkConfigError(`invalid sink config:\n${lines.join('\n')}`);
  }
  return result.data;
}

function parseText(text: string, file: string): Obj {
  let data: unknown;
  try {
    data = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new SinkConfigError(`cannot parse ${file}: ${(err as Error).message}`);
  }
  if (data == null) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new SinkConfigError(`${file}: top level must be an object`);
  return data as Obj;
}

export interface LoadSinkConfigOptions {
  file?: string | undefined;
  env?: Env;
}

/** Reads the file (JSON or YAML), layers CLAUDE_OTEL_SINK_* env vars, validates once. */
export async function loadSinkConfig(options: LoadSinkConfigOptions = {}): Promise<SinkConfig> {
  const env = options.env ?? process.env;
  const file = options.file ?? env[SINK_ENV.config];
  let raw: Obj = {};
  if (file) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new SinkConfigError(`cannot read config ${file}: ${(err as Error).message}`);
    }
    raw = parseText(text, file);
  }
  return parseSinkConfig(applyEnv(raw, env));
}
