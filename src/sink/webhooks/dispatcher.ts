import type pg from 'pg';
import { Agent, request } from 'undici';
import type { WebhookDestinationConfig, WebhooksConfig } from '../config.js';
import type { Batch, Destination, Logger } from '../destination.js';
import { type DeliveryOutcome, backoffMs, classifyError, classifyHttpStatus } from '../failures.js';
import type { SinkMetrics } from '../metrics.js';
import { budgetEvents } from './budget.js';
import { type WebhookEvent, detectEvents, slackBody, standardBody } from './events.js';
import * as outbox from './outbox.js';
import { SsrfError, createAddressGuard } from './ssrf.js';
import { signatureHeaders, webhookId } from './sign.js';

export interface WebhookDispatcher extends Destination {
  /** Claims due rows and attempts each once. Returns how many were attempted. */
  runOnce(ids?: string[]): Promise<number>;
}

export interface WebhookDispatcherOptions {
  /** The Postgres pool holding the outbox (resolved lazily: the Postgres sink starts first). */
  pool: () => pg.Pool;
  log: Logger;
  metrics?: SinkMetrics | undefined;
  now?: () => number;
  random?: () => number;
  /** Poll loop on start (default true); the CLI delivers explicitly instead. */
  poll?: boolean;
}

const LEASE_MS = 60_000;
const MAX_RETRY_AFTER_MS = 86_400_000;

async function sessionSummary(pool: pg.Pool, sessionId: string): Promise<Record<string, unknown> | null> {
  const r = await pool.query(
    `SELECT turns::int, tool_calls::int, tool_errors::int, subagents::int, failed_turns::int,
            tool_time_ms::float8, started_at, ended_at FROM session_summaries WHERE session_id = $1`,
    [sessionId],
  );
  return r.rows[0] ?? null;
}

export function createWebhookDispatcher(config: WebhooksConfig, options: WebhookDispatcherOptions): WebhookDispatcher {
  const { log, metrics } = options;
  const now = options.now ?? Date.now;
  const guard = createAddressGuard(config.allowPrivateAddresses);
  const byName = new Map(config.destinations.map((d) => [d.name, d]));
  const budget = config.destinations.some((d) => d.events.includes('session_over_budget')) ? config.sessionBudgetUsd : undefined;
  /** Destinations refused at start (SSRF): no events are enqueued for them. */
  const refused = new Set<string>();
  // No redirects (undici's request does not follow them); connect-time lookup re-checks addresses.
  const agent = new Agent({ connect: { lookup: guard.lookup }, keepAliveTimeout: 10_000 });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let started = false;
  let stopped = false;

  async function attempt(dest: WebhookDestinationConfig, row: outbox.OutboxRow): Promise<{ outcome: DeliveryOutcome; status: number | null }> {
    try {
      await guard.check(dest.url);
      const ts = Math.floor(now() / 1000);
      const res = await request(dest.url, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', 'user-agent': 'claude-otel-sink', ...signatureHeaders(dest.secret, row.webhook_id, ts, row.body) },
        body: row.body,
        headersTimeout: dest.timeoutMs,
        bodyTimeout: dest.timeoutMs,
      });
      await res.body.dump().catch(() => {});
      return { outcome: classifyHttpStatus(res.statusCode, res.headers['retry-after'], now()), status: res.statusCode };
    } catch (err) {
      const e = (err as { cause?: unknown }).cause instanceof SsrfError ? (err as { cause: SsrfError }).cause : err;
      if (e instanceof SsrfError) return { outcome: { kind: 'permanent', reason: e.message }, status: null };
      const f = classifyError(e);
      const reason = (e as Error).message || String(e);
      return { outcome: f.kind === 'retryable' ? { kind: 'retryable', reason } : { kind: 'permanent', reason }, status: null };
    }
  }

  async function deliver(pool: pg.Pool, row: outbox.ClaimedRow, disabled: Map<string, string>): Promise<void> {
    const dest = byName.get(row.destination);
    const label = `webhook:${row.destination}`;
    if (!dest || disabled.has(row.destination)) {
      const why = dest ? `destination disabled: ${disabled.get(row.destination)}` : 'destination no longer configured';
      await outbox.markDead(pool, row, null, why, false);
      metrics?.deadLettered(label);
      return;
    }
    // Renew the claim right before sending: rows claimed together are sent one after the other, so
    // a late row's lease could have run out and another replica claimed it. Only the current
    // holder sends; the lease (60 s) outlasts one attempt (timeoutMs, 10 s by default).
    if (!(await outbox.renewClaim(pool, row, LEASE_MS))) {
      log.info('webhook row claimed by another replica meanwhile; not sent here', { webhook_id: row.webhook_id });
      return;
    }
    if (row.in_doubt) {
      // The previous attempt started and recorded no outcome (its replica was killed or stalled past
      // the lease): it may have reached the receiver. Sent again, same webhook-id; on record.
      log.warn('re-sending a webhook whose previous attempt has no recorded outcome; the receiver may get it twice (same webhook-id)', {
        destination: dest.name, webhook_id: row.webhook_id, in_doubt_attempts: row.in_doubt_attempts,
      });
      metrics?.webhookInDoubt(label);
    }
    const { outcome, status } = await attempt(dest, row);
    const attempts = row.attempts + 1;
    switch (outcome.kind) {
      case 'success':
        if (!(await outbox.markDelivered(pool, row, status ?? 0))) {
          // Our lease ran out and another replica claimed the row meanwhile: its claim decides.
          log.warn('webhook delivered after its claim was lost; the row was not updated', { destination: dest.name, webhook_id: row.webhook_id });
        }
        metrics?.written(label, 1);
        return;
      case 'gone':
        log.warn('webhook destination answered 410 Gone; disabling it', { destination: dest.name });
        await outbox.markDead(pool, row, status, outcome.reason);
        await outbox.disableDestination(pool, dest.name, outcome.reason);
        disabled.set(dest.name, outcome.reason);
        metrics?.deadLettered(label);
        return;
      case 'permanent':
        log.warn('webhook delivery failed permanently; dead-lettered', { destination: dest.name, webhook_id: row.webhook_id, error: outcome.reason });
        await outbox.markDead(pool, row, status, outcome.reason);
        metrics?.deadLettered(label);
        return;
      case 'retryable': {
        if (attempts >= config.maxAttempts) {
          log.warn('webhook delivery dead-lettered after last attempt', { destination: dest.name, webhook_id: row.webhook_id, attempts, error: outcome.reason });
          await outbox.markDead(pool, row, status, outcome.reason);
          metrics?.deadLettered(label);
          return;
        }
        const delay = Math.max(
          backoffMs(attempts, config.backoffBaseMs, config.backoffMaxMs, options.random),
          Math.min(outcome.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS),
        );
        await outbox.markRetry(pool, row, delay, status, outcome.reason);
        metrics?.retried(label);
      }
    }
  }

  async function runOnce(ids?: string[]): Promise<number> {
    const pool = options.pool();
    const rows = await outbox.claimDue(pool, config.batchSize, LEASE_MS, ids);
    if (!rows.length) return 0;
    const disabled = await outbox.disabledDestinations(pool);
    // In order within a destination (a 410 stops the rest), destinations in parallel.
    const groups = new Map<string, outbox.ClaimedRow[]>();
    for (const row of rows) groups.set(row.destination, [...(groups.get(row.destination) ?? []), row]);
    await Promise.all([...groups.values()].map(async (group) => {
      for (const row of group) {
        await deliver(pool, row, disabled).catch((err) => {
          log.warn('webhook bookkeeping failed; the lease will expire and the row be retried', { error: (err as Error).message });
        });
      }
    }));
    return rows.length;
  }

  /**
   * One poll at a time per process: a poll asked for while one runs (new events enqueued) starts
   * right after it. So a replica has at most one delivery in flight per destination, which bounds
   * what a crash can leave delivered but not recorded (see deliver()).
   */
  let again = false;
  function schedule(delay: number): void {
    if (stopped || options.poll === false) return;
    if (running) {
      again = true;
      return;
    }
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      const run = runOnce().catch((err) => {
        log.warn('webhook poll failed', { error: (err as Error).message });
        return 0;
      });
      running = run;
      void run.then((n) => {
        running = undefined;
        const now = again || n >= config.batchSize;
        again = false;
        schedule(now ? 0 : config.pollIntervalMs);
      });
    }, delay);
  }

  async function toRows(events: WebhookEvent[]): Promise<outbox.NewOutboxRow[]> {
    const rows: outbox.NewOutboxRow[] = [];
    for (const e of events) {
      if (e.type === 'session_end' && e.sessionId) {
        e.data.summary = await sessionSummary(options.pool(), e.sessionId).catch(() => null);
      }
      for (const d of config.destinations) {
        if (!d.events.includes(e.type) || refused.has(d.name)) continue;
        const body = JSON.stringify(d.format === 'slack' ? slackBody(e) : standardBody(e));
        rows.push({ webhookId: webhookId(d.name, e.identity), destination: d.name, eventType: e.type, body });
      }
    }
    return rows;
  }

  return {
    name: 'webhooks',
    runOnce,
    async start() {
      if (started || stopped) return;
      started = true;
      for (const d of config.destinations) {
        try {
          await guard.check(d.url);
        } catch (err) {
          if (err instanceof SsrfError) {
            refused.add(d.name);
            log.error(`webhook destination "${d.name}" refused: ${err.message}`, { destination: d.name, url: d.url });
          } else {
            log.warn(`webhook destination "${d.name}" not resolvable yet; checked again at delivery`, { error: (err as Error).message });
          }
        }
      }
      schedule(0);
    },
    async consume(batch: Batch) {
      const events = detectEvents(batch);
      if (budget !== undefined) events.push(...(await budgetEvents(options.pool(), batch, budget)));
      if (!events.length) return;
      const n = await outbox.enqueue(options.pool(), await toRows(events));
      if (n > 0) schedule(0);
    },
    async shutdown() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => 0);
      await agent.close().catch(() => {});
    },
  };
}
