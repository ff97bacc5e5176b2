// Correlation with Claude Code's own tracing, with the real CLI: native tracing on
// (CLAUDE_CODE_ENABLE_TELEMETRY + CLAUDE_CODE_ENHANCED_TELEMETRY_BETA, and
// CLAUDE_CODE_PROPAGATE_TRACEPARENT since the model server is not Anthropic's), its spans exported
// to the same OTLP receiver as ours. Its command hooks get TRACEPARENT; our turn span must carry
// exactly one link, to the prompt's claude_code.interaction span as Claude Code itself exported it.
import { afterEach, describe, expect, it } from 'vitest';
import { setupBridge, spansOf, type Bridge } from '../support/bridge-e2e.js';
import { bash, scenario, text, tools } from '../support/model-server.js';

const bridges: Bridge[] = [];
afterEach(async () => {
  for (const b of bridges.splice(0)) await b.cleanup();
});

describe('TRACEPARENT from Claude Code native tracing', () => {
  it("links our turn span to Claude Code's claude_code.interaction span of the prompt", async () => {
    const b = await setupBridge(scenario({ main: (req) => [tools(bash('echo hi')), text('done')][req.step] ?? text('done') }), { allowedTools: ['Bash'] });
    bridges.push(b);
    const r = await b.run('go', {
      env: {
        CLAUDE_CODE_ENABLE_TELEMETRY: '1',
        CLAUDE_CODE_ENHANCED_TELEMETRY_BETA: '1',
        CLAUDE_CODE_PROPAGATE_TRACEPARENT: '1',
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: b.receiver.url,
        OTEL_TRACES_EXPORT_INTERVAL: '200',
      },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    await b.stopAgent();
    const sessionId = r.json!.session_id;
    const interactions = b.receiver.spans.filter((s) => s.name === 'claude_code.interaction');
    if (process.env.DUMP_NATIVE) console.log(JSON.stringify(b.receiver.spans.filter((s) => s.traceId !== sessionId.replace(/-/g, '')).map((s) => ({ name: s.name, spanId: s.spanId, parent: s.parentSpanId, resource: s.resource })), null, 1), JSON.stringify(interactions[0]));
    expect(interactions).toHaveLength(1);
    const ours = spansOf(b.receiver.spans, sessionId);
    const turn = ours.find((s) => s.name === 'claude_code.turn')!;
    expect(turn).toBeDefined();
    expect(turn.links).toEqual([{ traceId: interactions[0]!.traceId, spanId: interactions[0]!.spanId, attributes: { 'claude_code.link.type': 'claude_code.interaction' } }]);
    // Only the turn: tool spans, the root and model calls carry no link.
    expect(ours.filter((s) => s !== turn && s.links?.length)).toEqual([]);
    // Our trace stays ours (the session's trace id), the link crosses to Claude Code's.
    expect(turn.traceId).toBe(sessionId.replace(/-/g, ''));
    expect(interactions[0]!.traceId).not.toBe(turn.traceId);
  }, 180_000);

  it('without CLAUDE_CODE_PROPAGATE_TRACEPARENT (a custom ANTHROPIC_BASE_URL) Claude Code sends none: no link, nothing else changes', async () => {
    const b = await setupBridge(scenario({ main: (req) => [tools(bash('echo hi')), text('done')][req.step] ?? text('done') }), { allowedTools: ['Bash'] });
    bridges.push(b);
    const r = await b.run('go', {
      env: {
        CLAUDE_CODE_ENABLE_TELEMETRY: '1', CLAUDE_CODE_ENHANCED_TELEMETRY_BETA: '1',
        OTEL_TRACES_EXPORTER: 'otlp', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_ENDPOINT: b.receiver.url, OTEL_TRACES_EXPORT_INTERVAL: '200',
      },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    await b.stopAgent();
    expect(b.receiver.spans.filter((s) => s.name === 'claude_code.interaction')).toHaveLength(1); // its tracing ran
    const ours = spansOf(b.receiver.spans, r.json!.session_id);
    expect(ours.find((s) => s.name === 'claude_code.turn')).toBeDefined();
    expect(ours.filter((s) => s.links?.length)).toEqual([]);
  }, 180_000);
});
