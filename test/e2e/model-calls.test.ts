// Model calls end to end with the real Claude Code CLI: the scripted model answers every request
// with distinct, known usage numbers (the main agent on claude-opus-5-5, a foreground subagent on
// haiku = claude-haiku-5-5); the agent reads the transcripts and exports one `chat` span per
// response, under the turn or the subagent that made it, with the roll-ups on turn, subagent and
// root, and the session cost equal to Claude Code's own `total_cost_usd`.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parentOf, setupBridge, spansOf, traceProblems, type Bridge } from '../support/bridge-e2e.js';
import { bash, scenario, text, tool, tools, withUsage, type RecordedRequest, type Reply, type Usage } from '../support/model-server.js';
import type { ReceivedSpan } from '../support/otlp-receiver.js';
import { createPricer } from '../../src/model-calls/prices.js';

const bridges: Bridge[] = [];
afterEach(async () => {
  for (const b of bridges.splice(0)) await b.cleanup();
});

/** Response n reports input 100n+1, output 10n+2, cache read 1000n+3, cache write 50n+4: every sum is unique. */
function usageSource() {
  let n = 0;
  return (): Usage => {
    n++;
    return { input_tokens: 100 * n + 1, output_tokens: 10 * n + 2, cache_read_input_tokens: 1000 * n + 3, cache_creation_input_tokens: 50 * n + 4 };
  };
}

const sum = (rs: RecordedRequest[]) => ({
  input: rs.reduce((a, r) => a + r.usage!.input_tokens + r.usage!.cache_read_input_tokens! + r.usage!.cache_creation_input_tokens!, 0),
  output: rs.reduce((a, r) => a + r.usage!.output_tokens, 0),
  cacheRead: rs.reduce((a, r) => a + r.usage!.cache_read_input_tokens!, 0),
  cacheCreation: rs.reduce((a, r) => a + r.usage!.cache_creation_input_tokens!, 0),
  calls: rs.length,
});

const rolledUp = (s: ReceivedSpan | undefined) => ({
  input: s?.attributes['gen_ai.usage.input_tokens'],
  output: s?.attributes['gen_ai.usage.output_tokens'],
  cacheRead: s?.attributes['gen_ai.usage.cache_read.input_tokens'],
  cacheCreation: s?.attributes['gen_ai.usage.cache_creation.input_tokens'],
  calls: s?.attributes['claude_code.model_calls'],
});

async function run(script: (u: () => Usage) => Parameters<typeof setupBridge>[0], prompt: string) {
  const b = await setupBridge(script(usageSource()), { allowedTools: ['Bash', 'Agent'] });
  bridges.push(b);
  const r = await b.run(prompt);
  expect(r.exitCode).toBe(0);
  const info = JSON.parse(readFileSync(join(b.otelHome, 'agent.json'), 'utf8')) as { url: string };
  const metrics = await (await fetch(`${info.url}/metrics`)).text();
  if (process.env.DUMP_METRICS) writeFileSync(process.env.DUMP_METRICS, metrics);
  await b.stopAgent();
  const payloads = b.payloads();
  expect(traceProblems(b.receiver.spans, payloads, b.ms.issuedToolUseIds())).toEqual([]);
  const sessionId = r.json!.session_id;
  return { b, r, sessionId, metrics, spans: spansOf(b.receiver.spans, sessionId), responses: b.ms.requests.filter((q) => q.messageId) };
}

const corpus = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/secrets/corpus.json'), 'utf8')) as { samples: { text: string; secrets: string[] }[] };

describe('model calls with the real Claude Code CLI', () => {
  it('one chat span per response, under its turn or subagent, with exact token sums and Claude Code\'s own cost', async () => {
    const { r, spans, responses, metrics, sessionId } = await run(
      (u) =>
        scenario({
          main: (req) => withUsage(([tools(bash('echo hi'), tool('Agent', { description: 'sub', prompt: 'SUB1: do', subagent_type: 'general-purpose', model: 'haiku', run_in_background: false })), tools(bash('echo two')), text('done')][req.step] ?? text('ok')) as Reply, u()),
          subagents: { 'SUB1:': (req) => withUsage(([tools(bash('echo sub')), text('sub done')][req.step] ?? text('sub done')) as Reply, u()) },
          side: () => withUsage(text('title'), u()),
        }),
      'go',
    );
    const main = responses.filter((q) => q.agent === 'main');
    const sub = responses.filter((q) => q.agent === 'subagent');
    expect(main).toHaveLength(3);
    expect(sub).toHaveLength(2);
    expect(responses.filter((q) => q.agent === 'side')).toEqual([]); // none sent: nothing outside the transcript

    const chats = spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat');
    expect(chats.map((s) => s.attributes['gen_ai.response.id']).sort()).toEqual(responses.map((q) => q.messageId).sort());
    const turn = spans.find((s) => s.name === 'claude_code.turn')!;
    const agent = spans.find((s) => s.name === 'invoke_agent general-purpose')!;
    const root = spans.find((s) => !s.parentSpanId)!;
    let linked = 0;
    for (const q of responses) {
      const chat = chats.find((s) => s.attributes['gen_ai.response.id'] === q.messageId)!;
      expect(chat.name).toBe(`chat ${q.agent === 'main' ? 'claude-opus-5-5' : 'claude-haiku-5-5'}`);
      expect(chat.attributes['gen_ai.provider.name']).toBe('anthropic');
      expect(chat.attributes['gen_ai.response.model']).toBe(q.model);
      expect(chat.attributes['gen_ai.response.finish_reasons']).toEqual([q.reply.kind === 'tools' ? 'tool_use' : 'end_turn']);
      expect(rolledUpChat(chat)).toEqual(sum([q]));
      expect(chat.parentSpanId).toBe(q.agent === 'main' ? turn.spanId : agent.spanId);
      expect(chat.startMs).toBeLessThanOrEqual(chat.endMs);
      expect(chat.attributes['gen_ai.output.messages']).toBeUndefined(); // content stays off by default
      // the tools it requested carry its response id
      // The tool calls it requested, by id; each tool span carries the response id unless Claude Code
      // ran the tool before the response's row reached the transcript (streaming tool execution).
      expect(chat.attributes['claude_code.response.tool_call_ids'] ?? []).toEqual(q.toolUseIds);
      for (const id of q.toolUseIds) {
        const toolSpan = spans.find((s) => s.attributes['gen_ai.tool.call.id'] === id)!;
        expect([undefined, q.messageId], `${toolSpan.name} of ${q.agent} step ${q.step}`).toContain(toolSpan.attributes['gen_ai.response.id']);
        linked += toolSpan.attributes['gen_ai.response.id'] === q.messageId ? 1 : 0;
      }
    }
    expect(parentOf(spans, agent)?.name).toBe('execute_tool Agent');
    expect(linked).toBeGreaterThan(0); // the Agent call at least: its response is on disk long before the subagent ends

    // Roll-ups: the subagent its own calls; the turn every call of its prompt (its subagent's too); the root all.
    expect(rolledUp(agent)).toEqual(sum(sub));
    expect(rolledUp(turn)).toEqual(sum(responses));
    expect(rolledUp(root)).toEqual(sum(responses));

    // Cost: the root carries Claude Code's own total (cost-state) exactly; the price table agrees within 1 %.
    const total = r.json!.total_cost_usd as number;
    expect(total).toBeGreaterThan(0);
    expect(root.attributes['claude_code.cost.source']).toBe('claude_code');
    expect(root.attributes['claude_code.cost.usd']).toBe(total);
    const tableSum = chats.reduce((a, s) => a + (s.attributes['claude_code.cost.usd'] as number), 0);
    expect(Math.abs(tableSum - total) / total).toBeLessThan(0.01);
    const pricer = createPricer();
    const subCost = sub.reduce((a, q) => a + pricer(q.model, { input: q.usage!.input_tokens, output: q.usage!.output_tokens, cacheRead: q.usage!.cache_read_input_tokens!, cacheCreation: q.usage!.cache_creation_input_tokens!, cacheCreation1h: 0 })!, 0);
    expect(agent.attributes['claude_code.cost.usd']).toBeCloseTo(subCost, 12);
    expect(turn.attributes['claude_code.cost.usd']).toBeCloseTo(tableSum, 12);

    // Metrics on the agent's endpoint: token histogram by type and model, cost counter; no session id in any label.
    const all = sum(responses);
    const series = (name: string, labels: string) => metrics.split('\n').filter((l) => l.startsWith(name) && labels.split(',').every((kv) => l.includes(kv)));
    const value = (line: string | undefined) => Number(line?.split(' ').pop());
    const inputSum = series('gen_ai_client_token_usage_sum', 'gen_ai_token_type="input"').reduce((a, l) => a + value(l), 0);
    expect(inputSum).toBe(all.input);
    expect(value(series('gen_ai_client_token_usage_count', 'gen_ai_token_type="output",gen_ai_request_model="claude-haiku-5-5"')[0])).toBe(2);
    const costSum = series('claude_code_cost_usd', '').reduce((a, l) => a + value(l), 0);
    expect(costSum).toBeCloseTo(tableSum, 9);
    expect(series('gen_ai_client_operation_duration_count', 'claude_code_agent_type="general-purpose"').map(value)).toEqual([2]);
    expect(metrics).not.toContain(sessionId);
  });
});

function rolledUpChat(s: ReceivedSpan) {
  return { ...rolledUp(s), calls: 1 };
}

describe('model calls across a --resume, with model messages captured', () => {
  it('keeps one chat span per response over both runs, puts Claude Code\'s cumulative cost on the last closed session span, and redacts captured text', async () => {
    const sample = corpus.samples.find((x) => x.secrets.length > 0)!;
    const u = usageSource();
    const b = await setupBridge(
      scenario({ main: (req) => withUsage(([tools(bash('echo one')), text(`here: ${sample.text}`)][req.step] ?? text('ok')) as Reply, u()) }),
      { allowedTools: ['Bash'] },
    );
    bridges.push(b);
    const configFile = join(b.otelHome, 'config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(configFile, JSON.stringify({ ...config, capture: { modelMessages: true } }));
    const first = await b.run('first');
    expect(first.exitCode).toBe(0);
    const sessionId = first.json!.session_id;
    const second = await b.run('second', { extraArgs: ['--resume', sessionId] });
    expect(second.exitCode).toBe(0);
    await b.stopAgent();
    expect(traceProblems(b.receiver.spans, b.payloads(), b.ms.issuedToolUseIds())).toEqual([]);
    const spans = spansOf(b.receiver.spans, sessionId);
    const responses = b.ms.requests.filter((q) => q.messageId);
    expect(responses).toHaveLength(4);
    const chats = spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat');
    expect(chats.map((s) => s.attributes['gen_ai.response.id']).sort()).toEqual(responses.map((q) => q.messageId).sort());
    // Each turn rolls up its own two calls.
    const turns = spans.filter((s) => s.name === 'claude_code.turn');
    expect(turns).toHaveLength(2);
    for (const turn of turns) expect(turn.attributes['claude_code.model_calls']).toBe(2);
    // cost-state is cumulative over the resume. The root closed at the first SessionEnd with the
    // first run's total; the resumed segment, closed at the second, carries the session's total.
    const root = spans.find((s) => !s.parentSpanId)!;
    const segment = spans.find((s) => s.name === 'claude_code.session.resume')!;
    expect(second.json!.total_cost_usd as number).toBeGreaterThan(first.json!.total_cost_usd as number);
    expect(root.attributes['claude_code.cost.usd']).toBe(first.json!.total_cost_usd);
    expect(root.attributes['claude_code.model_calls']).toBe(2);
    expect(segment.attributes['claude_code.cost.usd']).toBe(second.json!.total_cost_usd);
    expect(segment.attributes['claude_code.model_calls']).toBe(4);
    // Captured text is there, redacted.
    const captured = chats.map((s) => String(s.attributes['gen_ai.output.messages'] ?? '')).join('\n');
    expect(captured).toContain('here: ');
    expect(captured).toContain('"type":"tool_call"');
    for (const secret of sample.secrets) expect(captured).not.toContain(secret);
    expect(JSON.stringify(b.receiver.spans)).not.toContain(sample.secrets[0]!);
  });
});

