#!/usr/bin/env node
// The sink service in its own process (like `claude-otel sink`), but with a Redis key prefix of the
// caller's choosing so a benchmark never writes into the default `claude-otel:v1` streams.
//   node bench/sinks/sink-process.mjs '<SinkConfigInput JSON>' <redis key prefix>
// Prints one JSON line {"url": "http://127.0.0.1:PORT"} on stdout once listening; stops on SIGTERM.
const dist = new URL('../../dist/sink/', import.meta.url);
const { parseSinkConfig } = await import(new URL('config.js', dist).href);
const { createSinkService } = await import(new URL('service.js', dist).href);

const config = parseSinkConfig(JSON.parse(process.argv[2] ?? '{}'));
const prefix = process.argv[3];
const log = {
  info() {},
  warn: (m, f) => console.error('sink warn', m, JSON.stringify(f ?? {})),
  error: (m, f) => console.error('sink error', m, JSON.stringify(f ?? {})),
};
const service = createSinkService(config, { log, redisKeyPrefix: prefix });
await service.start();
process.stdout.write(`${JSON.stringify({ url: service.url })}\n`);
const stop = () => service.shutdown().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
