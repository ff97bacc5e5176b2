import { randomBytes } from 'node:crypto';
import { type SinkConfigInput, parseSinkConfig } from '../../../src/sink/config.js';
import type { Logger } from '../../../src/sink/destination.js';
import type { SinkMetrics } from '../../../src/sink/metrics.js';
import { type SinkService, createSinkService } from '../../../src/sink/service.js';

export interface RecordingLogger extends Logger {
  lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> | undefined }>;
}

export function createRecordingLogger(echo = !!process.env.SINK_TEST_LOG): RecordingLogger {
  const lines: RecordingLogger['lines'] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push({ level, msg, fields });
    if (echo) console.error(level, msg, fields ?? '');
  };
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

export interface TestSink {
  service: SinkService;
  url: string;
  log: RecordingLogger;
  prefix: string;
  /** The bearer token the sink requires ('' when started without one). */
  token: string;
  /** Headers that authenticate a request to this sink. */
  auth: Record<string, string>;
}

export interface TestSinkOptions {
  /** false: start without a token (loopback, no webhooks); default: a fresh random token. */
  token?: string | false;
  now?: () => Date;
  metrics?: SinkMetrics;
}

export const newToken = (): string => randomBytes(24).toString('base64url');

/**
 * Starts a sink on a free port with the given destinations and, unless told otherwise, a fresh
 * bearer token; every test isolates its Redis keys with its own prefix.
 */
export async function startTestSink(
  config: Omit<SinkConfigInput, 'listen'>,
  prefix = `claude-otel-test:${process.pid}:${Date.now()}`,
  options: TestSinkOptions = {},
): Promise<TestSink> {
  const log = createRecordingLogger();
  const token = options.token === false ? '' : (options.token ?? newToken());
  const service = createSinkService(
    parseSinkConfig({ listen: { host: '127.0.0.1', port: 0 }, ...(token ? { auth: { token } } : {}), ...config }),
    { log, redisKeyPrefix: prefix, random: () => 0, now: options.now, metrics: options.metrics },
  );
  await service.start();
  return { service, url: service.url, log, prefix, token, auth: token ? { authorization: `Bearer ${token}` } : {} };
}
