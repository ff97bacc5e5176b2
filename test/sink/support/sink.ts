import { type SinkConfigInput, parseSinkConfig } from '../../../src/sink/config.js';
import type { Logger } from '../../../src/sink/destination.js';
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
}

/** Starts a sink on a free port with the given destinations; every test isolates its Redis keys. */
export async function startTestSink(config: Omit<SinkConfigInput, 'listen'>, prefix = `claude-otel-test:${process.pid}:${Date.now()}`): Promise<TestSink> {
  const log = createRecordingLogger();
  const service = createSinkService(parseSinkConfig({ listen: { host: '127.0.0.1', port: 0 }, ...config }), {
    log,
    redisKeyPrefix: prefix,
    random: () => 0,
  });
  await service.start();
  return { service, url: service.url, log, prefix };
}
