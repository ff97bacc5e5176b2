/**
 * The `session_over_budget` webhook event: once a session's cost crosses `webhooks.sessionBudgetUsd`.
 * A session's cost is read from what the stores hold (the outbox follows them), as the largest of:
 * the sum of its model calls' `claude_code.cost.usd` (`model_call` spans: known as each call is
 * exported, so a runaway turn is caught before it ends), the sum of its turns' roll-ups, and its
 * root's or segments' cumulative roll-up (Claude Code's own `cost-state` figure when it stated one).
 * Each is a lower bound of what the session cost, read from the `cost_usd` column (migration 0005:
 * the attribute, when it is a number ≥ 0), not from the attributes JSON. Only sessions with a cost-bearing span in the
 * batch are looked at; the event's identity is the session, so the outbox keeps one per session
 * and destination however many batches cross the budget again.
 */
import type pg from 'pg';
import type { Batch } from '../destination.js';
import type { WebhookEvent } from './events.js';

const COST = 'claude_code.cost.usd';
const ROLLED_UP = ['model_call', 'turn', 'session', 'segment'];

/** Sessions whose batch spans carry a cost (the only ones whose cost can have changed). */
export function sessionsWithCost(batch: Batch): string[] {
  const ids = new Set<string>();
  for (const s of batch.spans) {
    if (s.sessionId && typeof s.attributes[COST] === 'number' && ROLLED_UP.includes(s.kind ?? '')) ids.add(s.sessionId);
  }
  return [...ids];
}

interface CostRow {
  session_id: string;
  trace_id: string;
  cost: number;
  model_calls: number;
  last_time: Date;
}

export async function budgetEvents(pool: pg.Pool, batch: Batch, budgetUsd: number): Promise<WebhookEvent[]> {
  const sessions = sessionsWithCost(batch);
  if (!sessions.length) return [];
  const r = await pool.query<CostRow>(
    `SELECT session_id, min(trace_id) AS trace_id, count(*) FILTER (WHERE kind = 'model_call')::int AS model_calls,
            max(coalesce(end_time, start_time)) AS last_time,
            GREATEST(
              coalesce(sum(c) FILTER (WHERE kind = 'model_call'), 0),
              coalesce(sum(c) FILTER (WHERE kind = 'turn'), 0),
              coalesce(max(c) FILTER (WHERE kind IN ('session', 'segment')), 0)
            ) AS cost
       FROM (SELECT session_id, trace_id, kind, start_time, end_time, cost_usd::float8 AS c
               FROM spans WHERE session_id = ANY($1) AND kind = ANY($2) AND cost_usd IS NOT NULL) t
      GROUP BY session_id`,
    [sessions, ROLLED_UP],
  );
  return r.rows.filter((row) => row.cost > budgetUsd).map((row) => ({
    type: 'session_over_budget',
    identity: `session_over_budget:${row.session_id}`,
    occurredAt: row.last_time.toISOString(),
    sessionId: row.session_id,
    traceId: row.trace_id,
    spanId: null,
    data: { cost_usd: row.cost, budget_usd: budgetUsd, model_calls: row.model_calls },
  }));
}
