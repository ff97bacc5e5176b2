// With every content category captured, no secret of the corpus may leave the agent: not in a span
// attribute, span event, status message, log record, the local store, or the agent's metrics.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../support/fixtures.js';
import { removeHome, startTestAgent, waitFor, type TestAgent } from '../support/agent-harness.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';

interface Sample { name: string; text: string; secrets: string[] }
const load = (file: string) => (JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/secrets', file), 'utf8')) as { samples: Sample[] }).samples;
// The hand-written corpus and the generated one (kinds.json: 195 samples of 64 kinds).
const corpus = { samples: [...load('corpus.json'), ...load('kinds.json')] };

describe('redaction with content capture on', () => {
  let agent: TestAgent;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  const SID = 'cccccccc-0000-4000-8000-000000000001';

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    agent = await startTestAgent({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        CLAUDE_OTEL_CAPTURE_PROMPTS: 'true', CLAUDE_OTEL_CAPTURE_TOOL_INPUTS: 'true', CLAUDE_OTEL_CAPTURE_TOOL_OUTPUTS: 'true',
      },
    });
  });
  afterAll(async () => {
    await agent.stop();
    await receiver.close();
    removeHome(agent.home);
  });

  it('has a corpus of at least 30 secrets', () => {
    expect(corpus.samples.flatMap((s) => s.secrets).length).toBeGreaterThanOrEqual(30);
  });

  it('exports content, but none of the secrets, anywhere', async () => {
    const post = (name: string, o: Record<string, unknown>) => agent.post(JSON.stringify(fixture(name, { session_id: SID, ...o })));
    await post('SessionStart', {});
    corpus.samples.forEach((_s, i) => void i);
    for (const [i, sample] of corpus.samples.entries()) {
      const prompt = `p${i}`;
      await post('UserPromptSubmit', { prompt_id: prompt, prompt: sample.text });
      await post('PreToolUse', { prompt_id: prompt, tool_use_id: `ok${i}`, tool_input: { command: sample.text, description: 'x' } });
      await post('PostToolUse', { prompt_id: prompt, tool_use_id: `ok${i}`, tool_input: { command: sample.text }, tool_response: { stdout: sample.text, stderr: '' } });
      await post('PreToolUse', { prompt_id: prompt, tool_use_id: `bad${i}`, tool_input: { command: sample.text } });
      await post('PostToolUseFailure.exit3', { prompt_id: prompt, tool_use_id: `bad${i}`, tool_input: { command: sample.text }, error: `Exit code 1\n${sample.text}` });
      await post('2.1.328/Notification', { prompt_id: prompt, message: sample.text });
      await post('ConfigChange', { prompt_id: prompt, file_path: sample.text.slice(0, 150) });
      await post('Stop', { prompt_id: prompt });
    }
    await post('SessionEnd', {});
    const expected = 1 + corpus.samples.length * 3;
    await waitFor(() => receiver.spans.length >= expected, 60_000, `${expected} spans`);
    await agent.stop();

    const spans = JSON.stringify(receiver.spans);
    const logs = JSON.stringify(receiver.logs);
    const store = readdirSync(join(agent.home, 'store')).map((f) => readFileSync(join(agent.home, 'store', f), 'utf8')).join('\n');
    // Capture is really on: the redacted content arrived.
    expect(spans).toContain('[REDACTED:');
    expect(receiver.spans.some((s) => typeof s.attributes['claude_code.tool.output'] === 'string')).toBe(true);
    expect(receiver.spans.some((s) => typeof s.attributes['claude_code.prompt'] === 'string')).toBe(true);
    const leaks: string[] = [];
    for (const sample of corpus.samples) {
      for (const secret of sample.secrets) {
        for (const [where, text] of [['spans', spans], ['logs', logs], ['store', store]] as const) {
          if (text.includes(secret)) leaks.push(`${sample.name} → ${where}`);
        }
      }
    }
    expect(leaks).toEqual([]);
  });

  it('keeps secrets out of the metrics too', async () => {
    const metrics = await fetch(`${agent.url}/metrics`).then((r) => r.text(), () => '');
    for (const secret of corpus.samples.flatMap((s) => s.secrets)) expect(metrics).not.toContain(secret);
  });
});
