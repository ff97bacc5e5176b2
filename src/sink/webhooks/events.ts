import type { WebhookEventType } from '../config.js';
import type { Batch } from '../destination.js';
import type { SpanRecord } from '../records.js';

/** Something a webhook destination may want to hear about. Pure data; `identity` is stable. */
export interface WebhookEvent {
  type: WebhookEventType;
  identity: string;
  occurredAt: string;
  sessionId: string | null;
  traceId: string | null;
  spanId: string | null;
  data: Record<string, unknown>;
}

export const PERMISSION_DENIED_EVENT = 'claude_code.hook.PermissionDenied';

function spanData(s: SpanRecord): Record<string, unknown> {
  return {
    name: s.name,
    kind: s.kind,
    tool_name: s.toolName,
    agent_type: s.agentType,
    prompt_id: s.promptId,
    status: s.status,
    status_message: s.statusMessage,
    error_type: s.errorType,
    duration_ms: s.durationMs,
    performance_category: s.performanceCategory,
    start_time: s.startTime,
    end_time: s.endTime,
  };
}

function fromSpan(type: WebhookEventType, s: SpanRecord, extra: Record<string, unknown> = {}): WebhookEvent {
  return {
    type,
    identity: `${type}:${s.traceId}:${s.spanId}`,
    occurredAt: s.endTime ?? s.startTime,
    sessionId: s.sessionId,
    traceId: s.traceId,
    spanId: s.spanId,
    data: { ...spanData(s), ...extra },
  };
}

export const isRootSpan = (s: SpanRecord) => s.parentSpanId === null && (s.kind === 'session' || s.kind === null);

/** Finds the events in a batch. Span events and log records of one denial share an identity. */
export function detectEvents(batch: Batch): WebhookEvent[] {
  const out = new Map<string, WebhookEvent>();
  const add = (e: WebhookEvent) => {
    if (!out.has(e.identity)) out.set(e.identity, e);
  };
  for (const s of batch.spans) {
    const isTool = s.kind === 'tool' || (s.kind === null && s.toolName !== null);
    if (isTool && s.status === 'error' && s.errorType !== 'permission_denied') add(fromSpan('tool_failure', s));
    if (isTool && (s.performanceCategory === 'slow' || s.performanceCategory === 'very_slow')) add(fromSpan('slow_tool', s));
    if (s.kind === 'turn' && (s.status === 'error' || s.attributes['claude_code.turn.outcome'] === 'stop_failure')) {
      add(fromSpan('turn_failure', s));
    }
    if (isRootSpan(s) && s.endTime) {
      add(fromSpan('session_end', s, {
        end_reason: s.attributes['claude_code.session.end_reason'] ?? null,
        cwd: s.attributes['claude_code.cwd'] ?? null,
      }));
    }
    for (const ev of s.events) {
      if (ev.name !== PERMISSION_DENIED_EVENT && ev.name !== 'PermissionDenied') continue;
      add({
        type: 'permission_denied',
        identity: `permission_denied:${s.traceId}:${s.spanId}:${ev.time ?? ''}`,
        occurredAt: ev.time ?? s.startTime,
        sessionId: s.sessionId,
        traceId: s.traceId,
        spanId: s.spanId,
        data: { span_name: s.name, tool_name: s.toolName, attributes: ev.attributes },
      });
    }
  }
  for (const l of batch.logs) {
    if (l.eventName !== PERMISSION_DENIED_EVENT) continue;
    add({
      type: 'permission_denied',
      identity: `permission_denied:${l.traceId ?? ''}:${l.spanId ?? ''}:${l.time}`,
      occurredAt: l.time,
      sessionId: l.sessionId,
      traceId: l.traceId,
      spanId: l.spanId,
      data: { tool_name: l.attributes['gen_ai.tool.name'] ?? l.attributes['tool_name'] ?? null, attributes: l.attributes, body: l.body },
    });
  }
  return [...out.values()];
}

/** Standard Webhooks payload: `{ type, timestamp, data }`. */
export function standardBody(e: WebhookEvent): Record<string, unknown> {
  return {
    type: `claude_code.${e.type}`,
    timestamp: e.occurredAt,
    data: { session_id: e.sessionId, trace_id: e.traceId, span_id: e.spanId, ...e.data },
  };
}

const fmtMs = (v: unknown) => (typeof v === 'number' ? `${(v / 1000).toFixed(1)} s` : '?');

/** Slack-compatible incoming-webhook payload. */
export function slackBody(e: WebhookEvent): Record<string, unknown> {
  const d = e.data;
  const session = e.sessionId ? ` (session \`${e.sessionId}\`)` : '';
  const lines: Record<WebhookEventType, () => string> = {
    tool_failure: () => `:x: Tool *${d.tool_name ?? d.name}* failed: ${d.error_type ?? 'error'}${d.status_message ? ` — ${d.status_message}` : ''}`,
    slow_tool: () => `:turtle: Tool *${d.tool_name ?? d.name}* was ${d.performance_category}: ${fmtMs(d.duration_ms)}`,
    permission_denied: () => `:no_entry: Permission denied${d.tool_name ? ` for *${d.tool_name}*` : ''}`,
    session_end: () => {
      const s = (d.summary ?? {}) as Record<string, unknown>;
      return `:checkered_flag: Session ended after ${fmtMs(d.duration_ms)}: ${s.turns ?? '?'} turns, ${s.tool_calls ?? '?'} tool calls, ${s.tool_errors ?? '?'} errors`;
    },
    turn_failure: () => `:warning: Turn failed: ${d.error_type ?? 'error'}${d.status_message ? ` — ${d.status_message}` : ''}`,
    session_over_budget: () => `:moneybag: Session cost ${typeof d.cost_usd === 'number' ? d.cost_usd.toFixed(2) : '?'} USD, over the ${d.budget_usd} USD budget (${d.model_calls ?? '?'} model calls)`,
  };
  return { text: `${lines[e.type]()}${session}` };
}
