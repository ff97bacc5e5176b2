/**
 * The sink as one component: builds the destinations, the ingest fan-out and the HTTP server
 * from the config, starts them in order and shuts them down in reverse (created → starting →
 * started → stopped; shutdown idempotent and safe without start).
 */
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { type RequestAuth, createRequestAuth } from './auth.js';
import { type SinkConfig, isLoopbackHost, resolveSinkToken } from './config.js';
import { type Destination, type Logger, createConsoleLogger } from './destination.js';
import { createIngest } from './ingest.js';
import { type SinkMetrics, createSinkMetrics } from './metrics.js';
import { type PostgresSink, createPostgresSink } from './postgres/sink.js';
import { createRedisSink } from './redis/sink.js';
import { createSinkServer } from './server.js';
import { type WebhookDispatcher, createWebhookDispatcher } from './webhooks/dispatcher.js';

export interface SinkServiceOptions {
  log?: Logger;
  metrics?: SinkMetrics;
  migrationsDir?: string;
  /** Redis key prefix, overriding redis.keyPrefix of the config (tests isolate themselves with their own). */
  redisKeyPrefix?: string;
  now?: () => Date;
  /** Jitter source for webhook backoff (tests pass () => 0 for short, predictable delays). */
  random?: () => number;
}

export interface SinkService {
  start(): Promise<void>;
  /** Idempotent; safe without start(): stop accepting, drain, close pools. */
  shutdown(): Promise<void>;
  /** `http://host:port` once started (port 0 in config picks a free one). */
  readonly url: string;
  readonly postgres: PostgresSink | undefined;
  readonly webhooks: WebhookDispatcher | undefined;
}

export function createSinkService(config: SinkConfig, options: SinkServiceOptions = {}): SinkService {
  const log = options.log ?? createConsoleLogger();
  const ownMetrics = !options.metrics;
  const metrics = options.metrics ?? createSinkMetrics();
  const postgres =
    config.postgres?.enabled ? createPostgresSink(config.postgres, { log, migrationsDir: options.migrationsDir, now: options.now }) : undefined;
  const redis = config.redis?.enabled ? createRedisSink(config.redis, { log, keyPrefix: options.redisKeyPrefix ?? config.redis.keyPrefix, metrics }) : undefined;
  const webhooks =
    config.webhooks?.enabled && config.webhooks.destinations.length && postgres
      ? createWebhookDispatcher(config.webhooks, {
          pool: (): pg.Pool => postgres.pool,
          log,
          metrics,
          random: options.random,
        })
      : undefined;
  const stores: Destination[] = [postgres, redis].filter((d): d is NonNullable<typeof d> => d !== undefined);
  const followers: Destination[] = webhooks ? [webhooks] : [];
  const all = [...stores, ...followers];
  const ingest = createIngest({ stores, followers, metrics, log, writeTimeoutMs: config.writeTimeoutMs });
  const loopback = isLoopbackHost(config.listen.host);
  // Replaced at start once auth.tokenFile is read; nothing is served before that.
  let auth: RequestAuth = createRequestAuth({ token: config.auth.token, loopback });
  const http = createSinkServer({
    ingest,
    metrics,
    log,
    auth: {
      get required() {
        return auth.required;
      },
      authorized: (req) => auth.authorized(req),
      hostAllowed: (req) => auth.hostAllowed(req),
    },
    metricsOpen: loopback,
    maxBodyBytes: config.maxBodyBytes,
    maxInFlight: config.maxInFlight,
    validate: { limits: config.limits, now: options.now ?? (() => new Date()) },
  });
  // Exact span counts, read from the database at each scrape (migrations/0007_span_counts.sql).
  const unobserve = postgres ? metrics.observeSpanCounts(() => postgres.spanCounts()) : () => {};
  let state: 'created' | 'starting' | 'started' | 'stopped' = 'created';
  let url = '';
  let stopping: Promise<void> | undefined;

  async function stopAll(): Promise<void> {
    if (http.server.listening) {
      await http.drain();
      await new Promise<void>((resolve) => {
        http.server.close(() => resolve());
        http.server.closeIdleConnections();
      });
    }
    // Followers first (they use the Postgres pool), then stores.
    for (const d of [...followers, ...stores]) {
      await d.shutdown().catch((err) => log.warn(`shutdown of ${d.name} failed`, { error: (err as Error).message }));
    }
    unobserve();
    if (ownMetrics) await metrics.shutdown();
  }

  return {
    get url() {
      return url;
    },
    postgres,
    webhooks,
    async start() {
      if (state !== 'created') throw new Error(`sink cannot start: it is ${state}`);
      state = 'starting';
      try {
        auth = createRequestAuth({ token: await resolveSinkToken(config.auth), loopback });
        if (!auth.required) {
          log.warn('no auth token: any local process can write to this sink; set CLAUDE_OTEL_SINK_TOKEN (loopback only without one)', {
            host: config.listen.host,
          });
        }
        for (const d of stores) await d.start();
        for (const d of followers) await d.start();
        await new Promise<void>((resolve, reject) => {
          http.server.once('error', reject);
          http.server.listen(config.listen.port, config.listen.host, () => {
            http.server.off('error', reject);
            resolve();
          });
        });
      } catch (err) {
        state = 'stopped';
        await stopAll();
        throw err;
      }
      const addr = http.server.address() as AddressInfo;
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      url = `http://${host}:${addr.port}`;
      state = 'started';
      log.info('sink listening', { url, destinations: all.map((d) => d.name), auth: auth.required ? 'bearer' : 'none' });
    },
    shutdown() {
      if (!stopping) {
        state = 'stopped';
        stopping = stopAll();
      }
      return stopping;
    },
  };
}
