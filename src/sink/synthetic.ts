import { createHash } from 'node:crypto';

/**
 * A realistic Claude Code session as OTLP/JSON bodies, following docs/trace-model.md:
 * root, two turns, tool spans (success, Bash failure, slow, denied), a subagent with its own
 * tool, a failed turn, and a PermissionDenied log record. Used by tests and bench/sinks.
 */
export interface SyntheticSessionOptions {
  sessionId?: string;
  /** Start of the root span, ms since epoch. */
  startMs?: number;
  /** Extra successful tool spans in turn 1 (bench load). */
  extraTools?: number;
  /** Leave the root span out (it arrives last, at SessionEnd). */
  withRoot?: boolean;
}

export interface SyntheticSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  events?: Array<{ timeUnixNano: string; name: string; attributes: SyntheticSpan['attributes'] }>;
  status?: { code: number; message?: string };
}

export interface SyntheticSession {
  sessionId: string;
  traceId: string;
  spans: SyntheticSpan[];
  ids: Record<string, string>;
  traces: { resourceSpans: unknown[] };
  logs: { resourceLogs: unknown[] };
}

const attr = (key: string, v: string | number | boolean) => ({
  key,
  value: typeof v === 'string' ? { stringValue: v } : typeof v === 'boolean' ? { boolValue: v } : Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v },
});
const ns = (ms: number) => `${BigInt(Math.round(ms * 1000)) * 1000n}`;

export function spanIdFor(sessionId: string, key: string): string {
  return createHash('sha256').update(`${sessionId}/${key}`).digest('hex').slice(0, 16);
}

export function traceIdFor(sessionId: string): string {
  const hex = sessionId.replaceAll('-', '').toLowerCase();
  return /^[0-9a-f]{32}$/.test(hex) ? hex : createHash('sha256').update(sessionId).digest('hex').slice(0, 32);
}

let counter = 0;
export function randomSessionId(): string {
  const h = createHash('sha256').update(`${process.pid}/${Date.now()}/${counter++}/${Math.random()}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function resourceSpans(spans: SyntheticSpan[]) {
  return {
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', 'claude-code'), attr('service.version', '2.1.0')] },
        scopeSpans: [{ scope: { name: 'claude-otel-bridge', version: '0.1.0' }, spans }],
      },
    ],
  };
}

export function buildSyntheticSession(o: SyntheticSessionOptions = {}): SyntheticSession {
  const sessionId = o.sessionId ?? randomSessionId();
  const traceId = traceIdFor(sessionId);
  const t0 = o.startMs ?? Date.now() - 3_600_000;
  const ids: Record<string, string> = {};
  const spans: SyntheticSpan[] = [];
  const common = [attr('session.id', sessionId), attr('gen_ai.conversation.id', sessionId)];
  const add = (key: string, s: Omit<SyntheticSpan, 'traceId' | 'spanId' | 'attributes'> & { attrs: SyntheticSpan['attributes'] }) => {
    const spanId = spanIdFor(sessionId, key);
    ids[key] = spanId;
    const { attrs, ...rest } = s;
    spans.push({ traceId, spanId, ...rest, attributes: [...common, ...attrs] });
    return spanId;
  };
  const root = spanIdFor(sessionId, 'root');
  const turn = (n: number, prompt: string, start: number, end: number, failed: boolean) =>
    add(`turn/${prompt}`, {
      parentSpanId: root, name: 'claude_code.turn', kind: 1, startTimeUnixNano: ns(start), endTimeUnixNano: ns(end),
      attrs: [attr('claude_code.span.kind', 'turn'), attr('claude_code.prompt.id', prompt), attr('claude_code.turn.number', n),
        attr('claude_code.turn.outcome', failed ? 'stop_failure' : 'stop'), ...(failed ? [attr('error.type', 'api_error')] : [])],
      ...(failed ? { status: { code: 2, message: 'API Error: overloaded' } } : {}),
    });
  const tool = (id: string, parent: string, name: string, start: number, ms: number, extra: {
    outcome?: string; error?: string; category?: string; message?: string; prompt?: string;
  } = {}) =>
    add(`tool/${id}`, {
      parentSpanId: parent, name: `execute_tool ${name}`, kind: 1, startTimeUnixNano: ns(start), endTimeUnixNano: ns(start + ms),
      attrs: [attr('claude_code.span.kind', 'tool'), attr('gen_ai.operation.name', 'execute_tool'), attr('gen_ai.tool.name', name),
        attr('gen_ai.tool.call.id', id), attr('gen_ai.tool.type', name.startsWith('mcp__') ? 'extension' : 'function'),
        attr('claude_code.prompt.id', extra.prompt ?? 'p1'), attr('claude_code.tool.duration_ms', ms),
        attr('claude_code.tool.outcome', extra.outcome ?? 'success'),
        attr('claude_code.tool.performance_category', extra.category ?? (ms < 200 ? 'fast' : 'normal')),
        ...(extra.error ? [attr('error.type', extra.error)] : [])],
      ...(extra.error ? { status: { code: 2, message: extra.message ?? extra.error } } : {}),
    });

  const turn1 = turn(1, 'p1', t0 + 1_000, t0 + 200_000, false);
  tool('toolu_read1', turn1, 'Read', t0 + 2_000, 40);
  tool('toolu_bash1', turn1, 'Bash', t0 + 3_000, 1_200);
  tool('toolu_bash2', turn1, 'Bash', t0 + 5_000, 900, { outcome: 'error', error: 'exit_code_1', message: 'npm test failed' });
  tool('toolu_web1', turn1, 'WebFetch', t0 + 7_000, 45_000, { category: 'very_slow' });
  const agentTool = tool('toolu_agent1', turn1, 'Agent', t0 + 60_000, 80_000);
  const sub = add('agent/a1', {
    parentSpanId: agentTool, name: 'invoke_agent Explore', kind: 1, startTimeUnixNano: ns(t0 + 60_500), endTimeUnixNano: ns(t0 + 139_000),
    attrs: [attr('claude_code.span.kind', 'subagent'), attr('gen_ai.operation.name', 'invoke_agent'), attr('gen_ai.agent.name', 'Explore'),
      attr('gen_ai.agent.id', 'a1'), attr('claude_code.agent.type', 'Explore'), attr('claude_code.agent.background', false)],
  });
  tool('toolu_grep1', sub, 'Grep', t0 + 61_000, 300);
  tool('toolu_mcp1', sub, 'mcp__github__search', t0 + 62_000, 3_000, { category: 'slow' });
  const denied = tool('toolu_edit1', turn1, 'Edit', t0 + 150_000, 5_000, { outcome: 'denied', error: 'permission_denied' });
  const deniedAt = ns(t0 + 154_000);
  spans[spans.length - 1]!.events = [{ timeUnixNano: deniedAt, name: 'claude_code.hook.PermissionDenied', attributes: [attr('gen_ai.tool.name', 'Edit')] }];
  for (let i = 0; i < (o.extraTools ?? 0); i++) tool(`toolu_x${i}`, turn1, i % 2 ? 'Read' : 'Bash', t0 + 160_000 + i, 20 + (i % 50));
  const turn2 = turn(2, 'p2', t0 + 300_000, t0 + 330_000, true);
  tool('toolu_read2', turn2, 'Read', t0 + 301_000, 30, { prompt: 'p2' });
  if (o.withRoot !== false) {
    add('root', {
      name: 'invoke_agent claude-code', kind: 1, startTimeUnixNano: ns(t0), endTimeUnixNano: ns(t0 + 600_000),
      attrs: [attr('claude_code.span.kind', 'session'), attr('gen_ai.operation.name', 'invoke_agent'), attr('gen_ai.agent.name', 'claude-code'),
        attr('claude_code.session.source', 'startup'), attr('claude_code.session.end_reason', 'prompt_input_exit'), attr('claude_code.cwd', '/work/app')],
    });
  }
  const logs = {
    resourceLogs: [{
      resource: { attributes: [attr('service.name', 'claude-code')] },
      scopeLogs: [{
        scope: { name: 'claude-otel-bridge' },
        logRecords: [{
          timeUnixNano: deniedAt, observedTimeUnixNano: deniedAt, severityNumber: 13, severityText: 'WARN',
          eventName: 'claude_code.hook.PermissionDenied', traceId, spanId: denied,
          body: { stringValue: 'Permission denied for Edit' },
          attributes: [...common, attr('event.name', 'claude_code.hook.PermissionDenied'), attr('gen_ai.tool.name', 'Edit')],
        }],
      }],
    }],
  };
  return { sessionId, traceId, spans, ids, traces: resourceSpans(spans), logs };
}

/** Splits a session's spans into request bodies of at most `size` spans. */
export function chunkedBodies(spans: SyntheticSpan[], size: number): Array<{ resourceSpans: unknown[] }> {
  const out = [];
  for (let i = 0; i < spans.length; i += size) out.push(resourceSpans(spans.slice(i, i + size)));
  return out;
}
