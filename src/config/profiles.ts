/**
 * Built-in defaults: values shared by every profile (source `default`) and the values each
 * profile sets on top of them (source `profile`).
 */
import type { Config, Profile, Thresholds } from './schema.js';

/** Every value except `profile` and `home`, which are resolved separately. */
export type ConfigDefaults = Omit<Config, 'profile' | 'home'>;

type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;
export type ProfileOverrides = DeepPartial<ConfigDefaults>;

const t = (fastMs: number, slowMs: number, verySlowMs: number): Thresholds => ({ fastMs, slowMs, verySlowMs });

/**
 * Per-tool thresholds for production. Durations are Claude Code's `duration_ms` (execution only,
 * no permission prompt). Local file tools are expected to be near-instant; Bash and Agent run
 * arbitrary work, so only minutes count as slow.
 */
export const PRODUCTION_TOOL_THRESHOLDS: Record<string, Thresholds> = {
  Bash: t(1_000, 30_000, 120_000),
  Read: t(50, 1_000, 5_000),
  Write: t(50, 1_000, 5_000),
  Edit: t(50, 1_000, 5_000),
  MultiEdit: t(100, 2_000, 10_000),
  NotebookEdit: t(100, 2_000, 10_000),
  Grep: t(200, 5_000, 20_000),
  Glob: t(100, 3_000, 10_000),
  WebFetch: t(1_000, 15_000, 45_000),
  WebSearch: t(2_000, 15_000, 45_000),
  Agent: t(10_000, 120_000, 600_000),
  'mcp__*': t(500, 10_000, 60_000),
};

const scale = (src: Record<string, Thresholds>, factor: number): Record<string, Thresholds> =>
  Object.fromEntries(
    Object.entries(src).map(([tool, v]) => [tool, t(v.fastMs, v.slowMs * factor, v.verySlowMs * factor)]),
  );

export const BASE_DEFAULTS: ConfigDefaults = {
  agent: {
    host: '127.0.0.1',
    port: 4319,
    idleExitSeconds: 1_800,
    sessionIdleCloseSeconds: 7_200,
    reaperIntervalSeconds: 60,
  },
  transport: { mode: 'http' },
  export: {
    otlpHeaders: {},
    otlpHeadersCommandTimeoutMs: 10_000,
    otlpHeadersTtlSeconds: 1_740, // Claude Code's otelHeadersHelper default: 29 minutes
    compression: 'auto',
    bufferMaxBytes: 16 * 1024 * 1024,
    retryMaxBackoffMs: 60_000,
    serviceName: 'claude-code',
    resourceAttributes: {},
    flushDelayMs: 500,
    maxExportBatchSize: 512,
    maxQueueSize: 2_048,
    exportTimeoutMs: 30_000,
  },
  capture: { prompts: false, toolInputs: false, toolOutputs: false, modelMessages: false, maxValueBytes: 4_096 },
  modelCalls: { enabled: true, transcriptRoots: [], prices: {} },
  redaction: { extraPatterns: [] },
  thresholds: {
    default: t(500, 10_000, 60_000),
    perTool: PRODUCTION_TOOL_THRESHOLDS,
  },
  store: { localCopy: true, maxBytes: 200 * 1024 * 1024, maxAgeHours: 168 },
  log: { level: 'info' },
};

export const PROFILE_OVERRIDES: Record<Profile, ProfileOverrides> = {
  // Throughput: large batches (a full batch is sent at once; what is there goes every 500 ms, so a
  // hook event is in the backend and the web view within a second: at most two small exports a
  // second while a session is active), content capture off, strict thresholds; with a collector,
  // no second (local) copy of every span: the backend is the trace view.
  production: {
    export: { flushDelayMs: 500, maxExportBatchSize: 512, maxQueueSize: 2_048 },
    store: { localCopy: false },
    capture: { prompts: false, toolInputs: false, toolOutputs: false, modelMessages: false },
    log: { level: 'info' },
  },
  // Spans show up in the backend within half a second; verbose diagnostics; a noisy laptop
  // gets twice the slack before a tool counts as slow.
  development: {
    export: { flushDelayMs: 500, maxExportBatchSize: 128 },
    thresholds: { default: t(500, 20_000, 120_000), perTool: scale(PRODUCTION_TOOL_THRESHOLDS, 2) },
    agent: { reaperIntervalSeconds: 30 },
    log: { level: 'debug' },
  },
  // Tests and CI: export almost at once, small queues, quiet logs, a small short-lived store,
  // and an agent that does not linger after the test run.
  testing: {
    export: { flushDelayMs: 50, maxExportBatchSize: 64, maxQueueSize: 1_024, exportTimeoutMs: 5_000 },
    agent: { idleExitSeconds: 120, reaperIntervalSeconds: 5 },
    store: { maxBytes: 16 * 1024 * 1024, maxAgeHours: 24 },
    log: { level: 'warn' },
  },
};

export interface ProfileChoice {
  profile: Profile;
  /** Human-readable reason, printed by `claude-otel config`. */
  reason: string;
}

/** Auto-detection when neither CLAUDE_OTEL_PROFILE nor the config file names a profile. */
export function detectProfile(env: Readonly<Record<string, string | undefined>>): ProfileChoice {
  const ci = (env.CI ?? '').toLowerCase();
  if (ci === 'true' || ci === '1') return { profile: 'testing', reason: 'auto-detected: CI is set' };
  const nodeEnv = (env.NODE_ENV ?? '').toLowerCase();
  if (nodeEnv === 'test') return { profile: 'testing', reason: 'auto-detected: NODE_ENV=test' };
  if (nodeEnv === 'development') return { profile: 'development', reason: 'auto-detected: NODE_ENV=development' };
  return { profile: 'production', reason: 'auto-detected: no CI, NODE_ENV not test/development' };
}
