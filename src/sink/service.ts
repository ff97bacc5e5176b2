import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import type { SinkConfig } from './config.js';
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
  /** Redis key prefix (default `claude-otel:v1`); tests isolate themselves with their own. */
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
  const redis = config.redis?.enabled ? createRedisSink(config.redis, { log, keyPrefix: options.redisKeyPrefix }) : undefined;
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
  const http = createSinkServer({
    ingest,
    metrics,
    log,
    maxBodyBytes: config.maxBodyBytes,
    maxInFlight: config.maxInFlight,
    health: () => ({ destinations: all.map((d) => d.name) }),
    now: options.now,
  });
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
      log.info('sink listening', { url, destinations: all.map((d) => d.name) });
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
