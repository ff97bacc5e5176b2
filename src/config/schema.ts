/**
 * The one schema for everything a user can set. Types come from it; nothing else reads raw
 * config JSON. Objects are strict so a typo in config.json is reported instead of ignored.
 */
import { z } from 'zod';

export const PROFILES = ['production', 'development', 'testing'] as const;
export type Profile = (typeof PROFILES)[number];

export const TRANSPORT_MODES = ['http', 'durable'] as const;
export type TransportMode = (typeof TRANSPORT_MODES)[number];

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const LOOPBACK_NAMES = new Set(['localhost', '::1', '[::1]']);

/** 127.0.0.0/8, ::1 and localhost: the agent must never listen on a routable address. */
export function isLoopbackHost(host: string): boolean {
  if (LOOPBACK_NAMES.has(host.toLowerCase())) return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return m !== null && m.slice(1).every((part) => Number(part) <= 255);
}

const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** `auto`: gzip unless the endpoint is on this machine (loopback), where compressing only costs CPU. */
export const COMPRESSIONS = ['auto', 'gzip', 'none'] as const;

const absolutePath = z.string().refine((p) => p.startsWith('/'), 'must be an absolute path');

const httpUrl = z
  .string()
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL');

export const thresholdSchema = z
  .strictObject({
    fastMs: int(0, 86_400_000),
    slowMs: int(1, 86_400_000),
    verySlowMs: int(1, 86_400_000),
  })
  .refine((t) => t.fastMs < t.slowMs && t.slowMs < t.verySlowMs, {
    message: 'must satisfy fastMs < slowMs < verySlowMs',
  });
export type Thresholds = z.infer<typeof thresholdSchema>;

export const configSchema = z.strictObject({
  profile: z.enum(PROFILES),
  /** State directory (CLAUDE_OTEL_HOME): token, config.json, spool, span store, logs. */
  home: z.string().min(1),
  agent: z.strictObject({
    host: z.string().refine(isLoopbackHost, 'must be a loopback address (127.0.0.1, ::1 or localhost)'),
    port: int(1, 65_535),
    idleExitSeconds: int(0, 7 * 86_400),
    sessionIdleCloseSeconds: int(60, 30 * 86_400),
    reaperIntervalSeconds: int(1, 3_600),
  }),
  transport: z.strictObject({
    mode: z.enum(TRANSPORT_MODES),
  }),
  export: z.strictObject({
    /** Base OTLP/HTTP endpoint; `/v1/traces` (and `/v1/logs`) are appended. */
    otlpEndpoint: httpUrl.optional(),
    /** Full traces URL, used as is (like OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). */
    otlpTracesEndpoint: httpUrl.optional(),
    /** Full logs URL, used as is (like OTEL_EXPORTER_OTLP_LOGS_ENDPOINT). */
    otlpLogsEndpoint: httpUrl.optional(),
    otlpHeaders: z.record(z.string().min(1), z.string()),
    /** A shell command printing a JSON object of headers (short-lived tokens), merged over otlpHeaders. */
    otlpHeadersCommand: z.string().min(1).optional(),
    otlpHeadersCommandTimeoutMs: int(100, 120_000),
    /** How long the command's output is used before it runs again (a 401/403 runs it at once). */
    otlpHeadersTtlSeconds: int(1, 86_400),
    compression: z.enum(COMPRESSIONS),
    /** TLS for an https:// endpoint: the CA that signs the gateway's certificate, and a client certificate. */
    tls: z.strictObject({
      /** PEM CA bundle that replaces the system trust store for the export. */
      caFile: absolutePath.optional(),
      certFile: absolutePath.optional(),
      keyFile: absolutePath.optional(),
    }).refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), {
      message: 'certFile and keyFile go together (a client certificate needs its key)',
    }).optional(),
    /** Spans held for retry while the endpoint is unreachable; past it the oldest are dropped and counted. */
    bufferMaxBytes: int(64 * 1024, 4 * 1024 * 1024 * 1024),
    /** The longest wait between two export attempts while the endpoint is unreachable. */
    retryMaxBackoffMs: int(100, 3_600_000),
    serviceName: z.string().min(1),
    resourceAttributes: z.record(z.string().min(1), z.string()),
    flushDelayMs: int(0, 600_000),
    maxExportBatchSize: int(1, 100_000),
    maxQueueSize: int(1, 1_000_000),
    exportTimeoutMs: int(100, 600_000),
  }),
  capture: z.strictObject({
    prompts: z.boolean(),
    toolInputs: z.boolean(),
    toolOutputs: z.boolean(),
    /** The text and tool calls of model responses on `chat` spans (gen_ai.output.messages). */
    modelMessages: z.boolean(),
    maxValueBytes: int(64, 1_048_576),
  }),
  /** Model-call spans, tokens and cost from the transcripts (src/agent/model-calls.ts). */
  modelCalls: z.strictObject({
    enabled: z.boolean(),
    /** Directories besides Claude Code's own projects directory where transcripts may be read. */
    transcriptRoots: z.array(z.string().refine((p) => p.startsWith('/'), 'must be an absolute path')),
    /** USD per million tokens, per model id; replaces the shipped table's entry for that model. */
    prices: z.record(z.string().min(1), z.strictObject({
      input: z.number().nonnegative(),
      output: z.number().nonnegative(),
      cacheRead: z.number().nonnegative(),
      cacheWrite5m: z.number().nonnegative(),
      cacheWrite1h: z.number().nonnegative(),
    })),
  }),
  redaction: z.strictObject({
    extraPatterns: z.array(z.string().min(1)),
  }),
  thresholds: z.strictObject({
    default: thresholdSchema,
    perTool: z.record(z.string().min(1), thresholdSchema),
  }),
  store: z.strictObject({
    /** Keep a local copy of the spans while exporting OTLP (without an endpoint the store is always used). */
    localCopy: z.boolean(),
    maxBytes: int(0, Number.MAX_SAFE_INTEGER),
    maxAgeHours: z.number().positive().max(24 * 366),
  }),
  log: z.strictObject({
    level: z.enum(LOG_LEVELS),
  }),
}).superRefine((config, ctx) => {
  if (config.export.maxExportBatchSize > config.export.maxQueueSize) {
    ctx.addIssue({
      code: 'custom',
      path: ['export', 'maxExportBatchSize'],
      message: `must not exceed export.maxQueueSize (${config.export.maxQueueSize})`,
    });
  }
  config.redaction.extraPatterns.forEach((source, index) => {
    try {
      if (new RegExp(source).test('')) {
        ctx.addIssue({ code: 'custom', path: ['redaction', 'extraPatterns', index], message: 'matches the empty string' });
      }
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        path: ['redaction', 'extraPatterns', index],
        message: `is not a valid regular expression (${(err as Error).message})`,
      });
    }
  });
});

export type Config = z.infer<typeof configSchema>;

/** Where an effective value came from, highest precedence first. */
export type ConfigSource = 'flag' | 'env' | 'file' | 'profile' | 'default';
