import type pg from 'pg';

/** SQL for the durable outbox (migrations/0004_webhooks.sql). */
export interface OutboxRow {
  id: string;
  webhook_id: string;
  destination: string;
  event_type: string;
  body: string;
  state: 'pending' | 'delivered' | 'dead';
  attempts: number;
  next_attempt_at: Date;
  last_status: number | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  /** Set by claimDue: only the holder of the current claim records the outcome (0006_replicas.sql). */
  claim_token: string | null;
  /** Set right before an attempt (renewClaim), cleared with its outcome (0008_webhook_in_doubt.sql). */
  attempt_started_at: Date | null;
  /** Attempts re-sent because an earlier one's outcome was never recorded. */
  in_doubt_attempts: number;
}

/** A claimed row; `in_doubt`: its previous attempt may have reached the receiver unrecorded. */
export interface ClaimedRow extends OutboxRow {
  in_doubt: boolean;
}

export interface NewOutboxRow {
  webhookId: string;
  destination: string;
  eventType: string;
  body: string;
}

type Queryable = Pick<pg.Pool, 'query'>;

/** Inserts in one statement; an event already enqueued (same webhook_id) is ignored. */
export async function enqueue(db: Queryable, rows: NewOutboxRow[]): Promise<number> {
  if (!rows.length) return 0;
  const r = await db.query(
    `INSERT INTO webhook_outbox (webhook_id, destination, event_type, body)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
     ON CONFLICT (webhook_id) DO NOTHING`,
    [rows.map((x) => x.webhookId), rows.map((x) => x.destination), rows.map((x) => x.eventType), rows.map((x) => x.body)],
  );
  return r.rowCount ?? 0;
}

/**
 * Claims due rows with a lease (next_attempt_at pushed ahead) and a fresh claim token, so
 * concurrent dispatchers in other processes (sink replicas) skip them (FOR UPDATE SKIP LOCKED); a
 * crashed dispatcher's rows become due again when the lease ends. The outcome is recorded only
 * with the token of the current claim (markDelivered/markRetry/markDead return false otherwise).
 * A row whose previous attempt started and never recorded an outcome comes back `in_doubt`, and
 * its in_doubt_attempts grows by one.
 */
export async function claimDue(db: Queryable, limit: number, leaseMs: number, ids?: string[]): Promise<ClaimedRow[]> {
  const r = await db.query<ClaimedRow>(
    `WITH due AS (
       SELECT id, attempt_started_at IS NOT NULL AS in_doubt FROM webhook_outbox
       WHERE state = 'pending' AND next_attempt_at <= now() AND ($3::bigint[] IS NULL OR id = ANY($3::bigint[]))
       ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     UPDATE webhook_outbox o SET next_attempt_at = now() + $2 * interval '1 millisecond', updated_at = now(),
       claim_token = gen_random_uuid()::text, attempt_started_at = NULL,
       in_doubt_attempts = o.in_doubt_attempts + due.in_doubt::int
     FROM due WHERE o.id = due.id
     RETURNING o.*, due.in_doubt`,
    [limit, leaseMs, ids ?? null],
  );
  return r.rows;
}

/** The row (its id) as claimed: `claim` is the token claimDue set, null for rows never claimed. */
export interface Claimed {
  id: string;
  claim_token: string | null;
}

const held = (r: { rowCount: number | null }) => (r.rowCount ?? 0) > 0;

/**
 * Right before an attempt: extends the lease of a row we still hold and stamps the attempt as
 * started (until its outcome is recorded); false when another dispatcher claimed it meanwhile.
 */
export async function renewClaim(db: Queryable, row: Claimed, leaseMs: number): Promise<boolean> {
  return held(await db.query(
    `UPDATE webhook_outbox SET next_attempt_at = now() + $3 * interval '1 millisecond', attempt_started_at = now()
     WHERE id = $1 AND state = 'pending' AND claim_token IS NOT DISTINCT FROM $2`,
    [row.id, row.claim_token, leaseMs],
  ));
}

/**
 * Records an attempt's outcome on a row we hold: `set` (its parameters from $3 on) and the claim
 * released, only while the row is pending under our claim token. The one place that fences the
 * outcome by the claim (see claimDue); false when another dispatcher claimed the row meanwhile.
 */
async function settle(db: Queryable, row: Claimed, set: string, params: unknown[]): Promise<boolean> {
  return held(await db.query(
    `UPDATE webhook_outbox SET ${set}, updated_at = now(), claim_token = NULL, attempt_started_at = NULL
     WHERE id = $1 AND state = 'pending' AND claim_token IS NOT DISTINCT FROM $2`,
    [row.id, row.claim_token, ...params],
  ));
}

export function markDelivered(db: Queryable, row: Claimed, status: number): Promise<boolean> {
  return settle(db, row, `state = 'delivered', attempts = attempts + 1, last_status = $3, last_error = NULL, delivered_at = now()`, [status]);
}

export function markRetry(db: Queryable, row: Claimed, delayMs: number, status: number | null, error: string): Promise<boolean> {
  return settle(db, row, `attempts = attempts + 1, last_status = $4, last_error = $5, next_attempt_at = now() + $3 * interval '1 millisecond'`, [
    delayMs, status, error,
  ]);
}

export function markDead(db: Queryable, row: Claimed, status: number | null, error: string, countAttempt = true): Promise<boolean> {
  return settle(db, row, `state = 'dead', attempts = attempts + $5::int, last_status = $3, last_error = $4`, [status, error, countAttempt ? 1 : 0]);
}

/** 410 Gone: disable the destination and dead-letter what is still pending for it. */
export async function disableDestination(db: Queryable, destination: string, reason: string): Promise<number> {
  await db.query(
    `INSERT INTO webhook_destination_state (destination, reason) VALUES ($1, $2)
     ON CONFLICT (destination) DO UPDATE SET reason = EXCLUDED.reason, disabled_at = now()`,
    [destination, reason],
  );
  const r = await db.query(
    `UPDATE webhook_outbox SET state = 'dead', last_error = $2, updated_at = now()
     WHERE destination = $1 AND state = 'pending'`,
    [destination, `destination disabled: ${reason}`],
  );
  return r.rowCount ?? 0;
}

export async function disabledDestinations(db: Queryable): Promise<Map<string, string>> {
  const r = await db.query<{ destination: string; reason: string }>('SELECT destination, reason FROM webhook_destination_state');
  return new Map(r.rows.map((x) => [x.destination, x.reason]));
}

export async function enableDestination(db: Queryable, destination: string): Promise<void> {
  await db.query('DELETE FROM webhook_destination_state WHERE destination = $1', [destination]);
}

export async function listDead(db: Queryable, limit = 100): Promise<OutboxRow[]> {
  const r = await db.query<OutboxRow>(
    `SELECT * FROM webhook_outbox WHERE state = 'dead' ORDER BY updated_at DESC, id DESC LIMIT $1`,
    [limit],
  );
  return r.rows;
}

/** Puts a dead-lettered row (by numeric id or webhook-id) back in the queue, due now. */
export async function requeueDead(db: Queryable, idOrWebhookId: string): Promise<OutboxRow | undefined> {
  const byId = /^\d+$/.test(idOrWebhookId);
  const r = await db.query<OutboxRow>(
    `UPDATE webhook_outbox SET state = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL,
       updated_at = now(), claim_token = NULL, attempt_started_at = NULL
     WHERE state = 'dead' AND ${byId ? 'id = $1::bigint' : 'webhook_id = $1'} RETURNING *`,
    [idOrWebhookId],
  );
  return r.rows[0];
}
