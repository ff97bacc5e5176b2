/**
 * The settable leaves of the config: how a string from env or a flag is parsed, which env
 * variables set it, and what a valid value looks like (used in error messages).
 */

export type FieldKind = 'string' | 'int' | 'number' | 'bool' | 'kvlist' | 'list';

export interface FieldSpec {
  path: string;
  kind: FieldKind;
  /** Env variables that set this field, lowest precedence first (standard OTEL_* before ours). */
  env: readonly string[];
  /** What a valid value looks like, for the "fix" part of an error. */
  expect: string;
  /** Values are secrets: masked by `claude-otel config`. */
  secret?: boolean;
}

const f = (path: string, kind: FieldKind, env: readonly string[], expect: string, secret = false): FieldSpec => ({
  path,
  kind,
  env,
  expect,
  ...(secret ? { secret } : {}),
});

export const FIELDS: readonly FieldSpec[] = [
  f('profile', 'string', ['CLAUDE_OTEL_PROFILE'], 'one of production, development, testing'),
  f('home', 'string', ['CLAUDE_OTEL_HOME'], 'a directory path such as ~/.claude-otel'),
  f('agent.host', 'string', ['CLAUDE_OTEL_HOST'], 'a loopback address: 127.0.0.1, ::1 or localhost'),
  f('agent.port', 'int', ['CLAUDE_OTEL_PORT'], 'a free TCP port from 1 to 65535, e.g. 4319'),
  f('agent.idleExitSeconds', 'int', ['CLAUDE_OTEL_IDLE_EXIT_SECONDS'], 'whole seconds, 0 (never exit) to 604800'),
  f(
    'agent.sessionIdleCloseSeconds',
    'int',
    ['CLAUDE_OTEL_SESSION_IDLE_CLOSE_SECONDS'],
    'whole seconds from 60 to 2592000',
  ),
  f('agent.reaperIntervalSeconds', 'int', ['CLAUDE_OTEL_REAPER_INTERVAL_SECONDS'], 'whole seconds from 1 to 3600'),
  f('transport.mode', 'string', ['CLAUDE_OTEL_TRANSPORT'], 'http or durable'),
  f(
    'export.otlpEndpoint',
    'string',
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'CLAUDE_OTEL_OTLP_ENDPOINT'],
    'an http(s) base URL such as http://localhost:4318',
    true,
  ),
  f(
    'export.otlpTracesEndpoint',
    'string',
    ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'CLAUDE_OTEL_OTLP_TRACES_ENDPOINT'],
    'an http(s) URL such as http://localhost:4318/v1/traces',
    true,
  ),
  f(
    'export.otlpLogsEndpoint',
    'string',
    ['OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', 'CLAUDE_OTEL_OTLP_LOGS_ENDPOINT'],
    'an http(s) URL such as http://localhost:4318/v1/logs',
    true,
  ),
  f(
    'export.otlpHeaders',
    'kvlist',
    ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', 'CLAUDE_OTEL_OTLP_HEADERS'],
    'comma-separated key=value pairs (env) or an object of strings (config.json)',
    true,
  ),
  f('export.otlpHeadersCommand', 'string', ['CLAUDE_OTEL_OTLP_HEADERS_COMMAND'], 'a shell command that prints a JSON object of header names to string values'),
  f('export.otlpHeadersCommandTimeoutMs', 'int', ['CLAUDE_OTEL_OTLP_HEADERS_COMMAND_TIMEOUT_MS'], 'milliseconds, 100 to 120000'),
  f('export.otlpHeadersTtlSeconds', 'int', ['CLAUDE_OTEL_OTLP_HEADERS_TTL_SECONDS'], 'whole seconds, 1 to 86400'),
  f(
    'export.compression',
    'string',
    ['OTEL_EXPORTER_OTLP_COMPRESSION', 'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION', 'CLAUDE_OTEL_OTLP_COMPRESSION'],
    'gzip or none',
  ),
  f('export.tls.caFile', 'string', ['OTEL_EXPORTER_OTLP_CERTIFICATE', 'OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE', 'CLAUDE_OTEL_OTLP_CA_FILE'], 'an absolute path to a PEM CA bundle'),
  f(
    'export.tls.certFile',
    'string',
    ['OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE', 'OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE', 'CLAUDE_OTEL_OTLP_CLIENT_CERT_FILE'],
    'an absolute path to a PEM client certificate (with export.tls.keyFile)',
  ),
  f(
    'export.tls.keyFile',
    'string',
    ['OTEL_EXPORTER_OTLP_CLIENT_KEY', 'OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY', 'CLAUDE_OTEL_OTLP_CLIENT_KEY_FILE'],
    'an absolute path to the PEM private key of export.tls.certFile',
  ),
  f('export.bufferMaxBytes', 'int', ['CLAUDE_OTEL_EXPORT_BUFFER_MAX_BYTES'], 'bytes, 65536 to 4294967296'),
  f('export.retryMaxBackoffMs', 'int', ['CLAUDE_OTEL_EXPORT_RETRY_MAX_BACKOFF_MS'], 'milliseconds, 100 to 3600000'),
  f('export.serviceName', 'string', ['OTEL_SERVICE_NAME', 'CLAUDE_OTEL_SERVICE_NAME'], 'a non-empty name'),
  f(
    'export.resourceAttributes',
    'kvlist',
    ['OTEL_RESOURCE_ATTRIBUTES', 'CLAUDE_OTEL_RESOURCE_ATTRIBUTES'],
    'comma-separated key=value pairs (env) or an object of strings (config.json)',
  ),
  f('export.flushDelayMs', 'int', ['OTEL_BSP_SCHEDULE_DELAY', 'CLAUDE_OTEL_FLUSH_DELAY_MS'], 'milliseconds, 0 to 600000'),
  f(
    'export.maxExportBatchSize',
    'int',
    ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 'CLAUDE_OTEL_MAX_EXPORT_BATCH_SIZE'],
    'a span count from 1 to export.maxQueueSize',
  ),
  f('export.maxQueueSize', 'int', ['OTEL_BSP_MAX_QUEUE_SIZE', 'CLAUDE_OTEL_MAX_QUEUE_SIZE'], 'a span count from 1 to 1000000'),
  f('export.exportTimeoutMs', 'int', ['OTEL_BSP_EXPORT_TIMEOUT', 'CLAUDE_OTEL_EXPORT_TIMEOUT_MS'], 'milliseconds, 100 to 600000'),
  f('capture.prompts', 'bool', ['CLAUDE_OTEL_CAPTURE_PROMPTS'], 'true or false'),
  f('capture.toolInputs', 'bool', ['CLAUDE_OTEL_CAPTURE_TOOL_INPUTS'], 'true or false'),
  f('capture.toolOutputs', 'bool', ['CLAUDE_OTEL_CAPTURE_TOOL_OUTPUTS'], 'true or false'),
  f('capture.modelMessages', 'bool', ['CLAUDE_OTEL_CAPTURE_MODEL_MESSAGES'], 'true or false'),
  f('modelCalls.enabled', 'bool', ['CLAUDE_OTEL_MODEL_CALLS'], 'true or false'),
  f('modelCalls.transcriptRoots', 'list', [], 'a list of absolute directory paths'),
  f('modelCalls.prices', 'kvlist', [], 'an object: model id -> { input, output, cacheRead, cacheWrite5m, cacheWrite1h } in USD per million tokens'),
  f('capture.maxValueBytes', 'int', ['CLAUDE_OTEL_CAPTURE_MAX_BYTES'], 'bytes from 64 to 1048576'),
  f(
    'redaction.extraPatterns',
    'list',
    ['CLAUDE_OTEL_REDACT_PATTERNS'],
    'a list of JavaScript regular expressions (env: a JSON array of strings)',
  ),
  f('thresholds.default.fastMs', 'int', [], 'milliseconds below slowMs'),
  f('thresholds.default.slowMs', 'int', [], 'milliseconds between fastMs and verySlowMs'),
  f('thresholds.default.verySlowMs', 'int', [], 'milliseconds above slowMs'),
  f('store.localCopy', 'bool', ['CLAUDE_OTEL_STORE_LOCAL_COPY'], 'true or false'),
  f('store.maxBytes', 'int', ['CLAUDE_OTEL_STORE_MAX_BYTES'], 'bytes, 0 or more'),
  f('store.maxAgeHours', 'number', ['CLAUDE_OTEL_STORE_MAX_AGE_HOURS'], 'hours, more than 0'),
  f('log.level', 'string', ['CLAUDE_OTEL_LOG_LEVEL'], 'one of debug, info, warn, error, silent'),
];

const BY_PATH = new Map(FIELDS.map((spec) => [spec.path, spec]));

const PER_TOOL = /^thresholds\.perTool\.([^.]+)\.(fastMs|slowMs|verySlowMs)$/;

/** Leaves that are replaced as a whole by a higher layer rather than merged key by key. */
export const ATOMIC_PATHS = new Set(['export.otlpHeaders', 'export.resourceAttributes', 'redaction.extraPatterns', 'modelCalls.prices']);

/** Paths holding secrets (masked in output). */
export const SECRET_PATHS = new Set(FIELDS.filter((spec) => spec.secret).map((spec) => spec.path));

export function fieldSpec(path: string): FieldSpec | undefined {
  const known = BY_PATH.get(path);
  if (known) return known;
  const m = PER_TOOL.exec(path);
  if (m) return f(path, 'int', [], `milliseconds; fastMs < slowMs < verySlowMs for ${m[1]}`);
  return undefined;
}

/** Short flag names accepted besides dotted paths. */
export const FLAG_ALIASES: Readonly<Record<string, string>> = {
  port: 'agent.port',
  host: 'agent.host',
  transport: 'transport.mode',
  'log-level': 'log.level',
  logLevel: 'log.level',
  endpoint: 'export.otlpEndpoint',
  'service-name': 'export.serviceName',
};
