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

/**
 * Waits until every store accepts writes (Redis connects in the background after start), by
 * posting one log record until it answers 200. Tests that count spans are not disturbed by it.
 */
export async function waitForStores(sink: TestSink, timeoutMs = 20_000): Promise<void> {
  const nowNs = `${BigInt(Date.now()) * 1_000_000n}`;
  const body = JSON.stringify({
    resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: nowNs, body: { stringValue: 'readiness probe' } }] }] }],
  });
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${sink.url}/v1/logs`, { method: 'POST', headers: { ...sink.auth, 'content-type': 'application/json' }, body });
    await res.arrayBuffer();
    if (res.status === 200) return;
    if (Date.now() > until) throw new Error(`stores not ready after ${timeoutMs} ms (last answer ${res.status})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
