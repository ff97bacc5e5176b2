import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from '../support/fixtures.js';
import { removeHome, startTestAgent, waitFor, type TestAgent } from '../support/agent-harness.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';

const SID = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const body = (name: string, overrides: Record<string, unknown> = {}) => JSON.stringify(fixture(name, { session_id: SID, prompt_id: 'p1', ...overrides }));

describe('agent', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup() {
    const receiver = await startOtlpReceiver();
    const agent = await startTestAgent({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
    cleanups.push(() => removeHome(agent.home), () => receiver.close(), () => agent.stop());
    return { receiver, agent };
  }

  it('turns posted hook events into one exported trace with the right tree', async () => {
    const { receiver, agent } = await setup();
    for (const [name, o] of [
      ['SessionStart', {}], ['UserPromptSubmit', {}], ['PreToolUse', { tool_use_id: 't1' }],
      ['PostToolUse', { tool_use_id: 't1', duration_ms: 12 }], ['Stop', {}], ['SessionEnd', {}],
    ] as const) {
      expect((await agent.post(body(name, o))).status).toBe(200);
    }
    const spans = await waitFor(() => receiver.spans.length >= 3 && receiver.spans, 10_000, 'spans');
    expect(spans.map((s) => s.name).sort()).toEqual(['claude_code.turn', 'execute_tool Bash', 'invoke_agent claude-code']);
    const root = spans.find((s) => !s.parentSpanId)!;
    expect(root.traceId).toBe(SID.replace(/-/g, ''));
    expect(root.resource['service.name']).toBe('claude-code');
    const tool = spans.find((s) => s.name === 'execute_tool Bash')!;
    expect(tool.attributes['claude_code.tool.duration_ms']).toBe(12);
    expect(tool.attributes['claude_code.tool.performance_category']).toBeTypeOf('string');
    expect(tool.attributes['claude_code.tool.input']).toBeUndefined();
  });

  it('answers every bad input with 200 {}, stays up, and counts the rejects', async () => {
    const { agent } = await setup();
    // Under the 8 MiB per-event cap (src/agent/event-limits.ts): accepted; over it: counted too_large.
    const huge = JSON.stringify(fixture('PostToolUse', { session_id: SID, tool_use_id: 'big', tool_response: { stdout: 'x'.repeat(6 * 1024 * 1024) } }));
    const tooBig = JSON.stringify(fixture('PostToolUse', { session_id: SID, tool_use_id: 'big2', tool_response: { stdout: 'x'.repeat(10 * 1024 * 1024) } }));
    const inputs: (string | Buffer)[] = [
      '', '{not json', JSON.stringify({ session_id: SID, hook_event_name: 'SomethingNew' }),
      JSON.stringify({ session_id: 42, hook_event_name: 'Stop' }), Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), huge, tooBig,
    ];
    for (const input of inputs) {
      const res = await agent.post(input);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('{}');
    }
    expect((await fetch(`${agent.url}/healthz`)).status).toBe(200);
    const metrics = await agent.metrics();
    expect(metrics).toMatch(/claude_otel_events_rejected_total\{reason="empty"\} 1/);
    expect(metrics).toMatch(/claude_otel_events_rejected_total\{reason="malformed_json"\} 2/);
    expect(metrics).toMatch(/claude_otel_events_rejected_total\{reason="invalid_event"\} 1/);
    expect(metrics).toMatch(/claude_otel_events_rejected_total\{reason="too_large"\} 1/);
    expect(metrics).toMatch(/claude_otel_events_total\{event="other",transport="http"\} 1/);
    expect(metrics).toMatch(/claude_otel_events_total\{event="PostToolUse",transport="http"\} 1/);
    // the handling histogram counts the accepted events, by transport (only what was accepted is timed)
    expect(metrics).toMatch(/claude_otel_handling_duration_count\{transport="http"\} 2/);
    expect(metrics).not.toMatch(/claude_otel_handling_duration_count\{transport="spool"\}/);
  });

  it('refuses a request without the token and counts it', async () => {
    const { agent } = await setup();
    const res = await fetch(`${agent.url}/v1/hooks`, { method: 'POST', body: body('SessionStart') });
    expect(res.status).toBe(401);
    // Counted apart from rejected events: anyone can send it, so it must not fire ClaudeOtelEventsRejected.
    expect(await agent.metrics()).toMatch(/claude_otel_unauthorized_requests_total\{reason="token",route="\/v1\/hooks"\} 1/);
    expect(await agent.metrics()).not.toMatch(/claude_otel_events_rejected_total/);
  });

  it('ingests spooled events in receipt order before a later http event', async () => {
    const { receiver, agent } = await setup();
    const now = Date.now() * 1000;
    writeFileSync(join(agent.home, 'spool', 'new', `${now}-0-1.json`), body('SessionStart'));
    writeFileSync(join(agent.home, 'spool', 'new', `${now + 5}-0-2.json`), body('UserPromptSubmit'));
    await agent.post(body('Stop'));
    await agent.post(body('SessionEnd'));
    const spans = await waitFor(() => receiver.spans.length >= 2 && receiver.spans, 10_000, 'spans');
    const root = spans.find((s) => !s.parentSpanId)!;
    expect(root.attributes['claude_code.gap']).toBeUndefined();
    expect(root.attributes['claude_code.session.source']).toBe('startup');
    const turn = spans.find((s) => s.name === 'claude_code.turn')!;
    expect(turn.parentSpanId).toBe(root.spanId);
    expect(turn.attributes['claude_code.gap']).toBeUndefined();
  });
});
