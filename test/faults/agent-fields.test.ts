// Reliability finding 11: an unknown event with 60k scalar fields held the event loop for a second,
// because every field was redacted and kept as a detail. The work per event is bounded by capping
// the fields kept (src/agent/event-limits.ts); what was dropped is said on the record and counted.
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_EVENT_FIELDS } from '../../src/agent/event-limits.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';
import { removeHome, startAgentProcess, tempHome, waitUntil } from './agent-process.js';

const SID = '60c0ffee-1111-4222-8333-444444444444';

describe('finding 11: a 60k-field unknown event', () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('keeps at most the capped number of fields, says how many it dropped, and the agent keeps answering', async () => {
    const receiver = await startOtlpReceiver();
    const home = tempHome();
    const agent = await startAgentProcess({ home, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
    cleanups.push(() => removeHome(home), () => receiver.close(), () => agent.stop('SIGKILL'));
    const event: Record<string, unknown> = { session_id: SID, hook_event_name: 'FutureWideEvent' };
    // short tokens: with capture off, string details of unknown events survive only as such (docs/privacy.md)
    for (let i = 0; i < 60_000; i++) event[`field_${i}`] = `v${i}-AKIA${String(i).padStart(16, '0')}`;
    const [posted, health] = await Promise.all([agent.post(JSON.stringify(event)), agent.healthy(10_000)]);
    expect(posted).toBe(200);
    expect(health).toBe(true);
    const log = await waitUntil(() => receiver.logs.find((l) => Object.keys(l.attributes).some((k) => k.startsWith('claude_code.field_'))), 15_000, 'the log record');
    const fields = Object.keys(log.attributes).filter((k) => k.startsWith('claude_code.field_'));
    expect(fields.length).toBeLessThanOrEqual(MAX_EVENT_FIELDS);
    expect(log.attributes['claude_code.fields_dropped']).toBe(60_002 - MAX_EVENT_FIELDS);
    expect(await agent.counter('claude_otel_event_fields_dropped_total')).toBe(60_002 - MAX_EVENT_FIELDS);
    expect(agent.alive()).toBe(true);
  });
});
