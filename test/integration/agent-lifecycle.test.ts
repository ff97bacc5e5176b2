// The agent's life: a restart rebuilds open spans from the journal with their original ids and
// start times; the reaper closes the sessions whose Claude Code process is gone.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixture } from '../support/fixtures.js';
import { removeHome, startTestAgent, waitFor } from '../support/agent-harness.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';

const SID = 'dddddddd-1111-4222-8333-444444444444';
const body = (name: string, o: Record<string, unknown> = {}) => JSON.stringify(fixture(name, { session_id: SID, prompt_id: 'p1', ...o }));

describe('agent lifecycle', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('rebuilds open spans after a restart with their original ids and start times', async () => {
    const receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };
    const first = await startTestAgent({ env });
    cleanups.push(() => removeHome(first.home));
    await first.post(body('SessionStart'));
    await first.post(body('UserPromptSubmit'));
    const before = Date.now();
    await first.post(body('PreToolUse', { tool_use_id: 'survivor' }));
    await first.stop(); // open spans are not exported: they live on in the journal
    expect(receiver.spans).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));

    const second = await startTestAgent({ home: first.home, env });
    cleanups.push(() => second.stop());
    await second.post(body('PostToolUse', { tool_use_id: 'survivor', duration_ms: 5 }));
    await second.post(body('Stop'));
    await second.post(body('SessionEnd'));
    const spans = await waitFor(() => receiver.spans.length >= 3 && receiver.spans, 10_000, 'spans');
    const tool = spans.find((s) => s.attributes['gen_ai.tool.call.id'] === 'survivor')!;
    expect(tool.startMs).toBeLessThanOrEqual(before + 50);
    expect(tool.endMs - tool.startMs).toBeGreaterThanOrEqual(200);
    expect(tool.attributes['claude_code.gap']).toBeUndefined();
    const root = spans.find((s) => !s.parentSpanId)!;
    expect(root.attributes['claude_code.gap']).toBeUndefined();
    expect(spans.find((s) => s.name === 'claude_code.turn')!.parentSpanId).toBe(root.spanId);
    expect(tool.parentSpanId).toBe(spans.find((s) => s.name === 'claude_code.turn')!.spanId);
  });

  it('closes a session whose Claude Code process has exited', async () => {
    const receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const agent = await startTestAgent({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, CLAUDE_OTEL_REAPER_INTERVAL_SECONDS: '1' } });
    cleanups.push(() => removeHome(agent.home), () => agent.stop());
    const gone = spawnSync('true').pid!; // a pid that has exited
    const micros = Date.now() * 1000;
    writeFileSync(join(agent.home, 'spool', 'new', `${micros}-${gone}-1.json`), body('SessionStart'));
    await agent.post(body('UserPromptSubmit'));
    await agent.post(body('PreToolUse', { tool_use_id: 'orphaned' }));
    const spans = await waitFor(() => receiver.spans.length >= 3 && receiver.spans, 15_000, 'reaped spans');
    const root = spans.find((s) => !s.parentSpanId)!;
    expect(root.attributes['claude_code.session.end_reason']).toBe('bridge:process_exited');
    expect(root.attributes['claude_code.gap']).toBe('missing_end');
    expect(spans.find((s) => s.attributes['gen_ai.tool.call.id'] === 'orphaned')!.attributes['claude_code.tool.outcome']).toBe('not_completed');
  });

  it('does not close a session whose process is gone while that process\'s last spooled event is still being written', async () => {
    const receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const agent = await startTestAgent({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, CLAUDE_OTEL_REAPER_INTERVAL_SECONDS: '1' } });
    cleanups.push(() => removeHome(agent.home), () => agent.stop());
    const gone = spawnSync('true').pid!;
    const spooled = (n: number) => join(agent.home, 'spool', 'new', `${Date.now() * 1000 + n}-${gone}-${n}.json`);
    writeFileSync(spooled(1), body('SessionStart'));
    const end = spooled(2);
    const full = body('SessionEnd');
    writeFileSync(end, full.slice(0, 30)); // a hook that writes straight into new/ (older versions), not done yet
    await new Promise((r) => setTimeout(r, 2_500)); // two reaper rounds see the process gone
    expect(receiver.spans).toEqual([]);
    writeFileSync(end, full);
    const spans = await waitFor(() => receiver.spans.length >= 1 && receiver.spans, 10_000, 'the root span');
    const root = spans.find((s) => !s.parentSpanId)!;
    expect(root.attributes['claude_code.gap']).toBeUndefined();
    expect(root.attributes['claude_code.session.end_reason']).toBe(JSON.parse(full).reason);
  });

  it('exits when idle with no open session, and stays while a session is open', async () => {
    const env = { CLAUDE_OTEL_IDLE_EXIT_SECONDS: '1', CLAUDE_OTEL_REAPER_INTERVAL_SECONDS: '1' };
    const busy = await startTestAgent({ env });
    cleanups.push(() => removeHome(busy.home), () => busy.stop());
    await busy.post(body('SessionStart'));
    const idle = await startTestAgent({ env });
    cleanups.push(() => removeHome(idle.home));
    const exited = await Promise.race([idle.agent.closed.then(() => true), new Promise((r) => setTimeout(() => r(false), 8000))]);
    expect(exited).toBe(true);
    expect((await fetch(`${busy.url}/healthz`)).status).toBe(200); // its session is still open
  });
});
