// Reliability finding 1: one poison input must not put the agent into a crash loop. Each case
// plants the poison the way the review did, then starts a real agent process (128 MB heap, as the
// hooks start it) and asserts that it starts, stays up, sets the poison aside and loses nothing else.
import { mkdirSync, readdirSync, statSync, writeFileSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixture } from '../support/fixtures.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';
import { removeHome, startAgentProcess, tempHome, waitUntil, type AgentProcess } from './agent-process.js';

const SID = 'f0f0f0f0-1111-4222-8333-444444444444';
const body = (name: string, o: Record<string, unknown> = {}) => JSON.stringify(fixture(name, { session_id: SID, prompt_id: 'p1', ...o }));
const PROTO_NAMES = ['__proto__', 'constructor', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', 'toString', '__defineGetter__', '__lookupSetter__'];

function spoolFile(home: string, n: number, text: string | Buffer) {
  mkdirSync(join(home, 'spool', 'new'), { recursive: true });
  const micros = (Date.now() - 60_000) * 1000 + n; // old enough to be past any write grace
  writeFileSync(join(home, 'spool', 'new', `${micros}-0-${n}.json`), text);
}

describe('finding 1: poison inputs', () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function receiverAndHome() {
    const receiver = await startOtlpReceiver();
    const home = tempHome();
    cleanups.push(() => removeHome(home), () => receiver.close());
    return { receiver, home, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } };
  }
  async function start(home: string, env: Record<string, string>) {
    const agent = await startAgentProcess({ home, env });
    cleanups.push(() => agent.stop('SIGKILL'));
    return agent;
  }
  const expectUp = (agent: AgentProcess) => expect({ alive: agent.alive(), log: agent.alive() ? '' : agent.log() }).toEqual({ alive: true, log: '' });

  it('(a) event names that are Object.prototype keys: accepted or quarantined, and every restart is clean', async () => {
    const { receiver, home, env } = await receiverAndHome();
    const first = await start(home, env);
    expect(await first.post(body('SessionStart'))).toBe(200);
    expect(await first.post(body('UserPromptSubmit'))).toBe(200);
    for (const name of PROTO_NAMES) expect(await first.post(JSON.stringify({ session_id: SID, hook_event_name: name }))).toBe(200);
    expect(await first.post(body('PreToolUse', { tool_use_id: 'after-poison' }))).toBe(200);
    const accepted = await first.counter('claude_otel_events_total');
    const quarantined = await first.counter('claude_otel_quarantined_total');
    expect(accepted + quarantined).toBe(PROTO_NAMES.length + 3);
    await first.stop('SIGTERM'); // a clean stop: compaction keeps the open session's events
    const second = await start(home, env);
    expectUp(second);
    await second.stop('SIGKILL'); // and after a crash
    const third = await start(home, env);
    expectUp(third);
    expect(await third.post(body('PostToolUse', { tool_use_id: 'after-poison', duration_ms: 3 }))).toBe(200);
    expect(await third.post(body('Stop'))).toBe(200);
    expect(await third.post(body('SessionEnd'))).toBe(200);
    const tool = await waitUntil(() => receiver.spans.find((s) => s.attributes['gen_ai.tool.call.id'] === 'after-poison'), 15_000, 'the tool span');
    expect(tool.attributes['claude_code.gap']).toBeUndefined(); // its PreToolUse survived two restarts
  });

  it('(b) a spooled event nested 6000 levels deep: set aside at start, the agent stays up, the rest is ingested', async () => {
    const { home, env } = await receiverAndHome();
    const deep = `{"session_id":"${SID}","hook_event_name":"PreToolUse","tool_name":"Bash","tool_use_id":"d","tool_input":${'['.repeat(6000)}${']'.repeat(6000)}}`;
    spoolFile(home, 1, body('SessionStart'));
    spoolFile(home, 2, deep);
    spoolFile(home, 3, body('UserPromptSubmit'));
    const agent = await start(home, env);
    expectUp(agent);
    expect(await agent.counter('claude_otel_events_total', 'transport="spool"')).toBe(2);
    expect(await agent.counter('claude_otel_quarantined_total', 'reason="too_deep"')).toBe(1);
    expect(readdirSync(join(home, 'spool', 'new'))).toEqual([]);
    // The same poison through http, and deep inside an unknown event's field.
    expect(await agent.post(deep)).toBe(200);
    expect(await agent.post(`{"session_id":"${SID}","hook_event_name":"Future","x":${'{"a":'.repeat(6000)}1${'}'.repeat(6000)}}`)).toBe(200);
    expectUp(agent);
    await agent.stop('SIGKILL');
    const again = await start(home, env);
    expectUp(again);
    const sessions = (await again.status()).sessions as { sessionId: string; openTurns: number }[];
    expect(sessions.map((s) => [s.sessionId, s.openTurns])).toEqual([[SID, 1]]);
  });

  it('(c) a 120 MB spool file: not read into the 128 MB heap, set aside, the agent starts', async () => {
    const { home, env } = await receiverAndHome();
    spoolFile(home, 1, body('SessionStart'));
    mkdirSync(join(home, 'spool', 'new'), { recursive: true });
    const big = join(home, 'spool', 'new', `${(Date.now() - 60_000) * 1000 + 2}-0-2.json`);
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(big);
      out.on('error', reject);
      out.write(`{"session_id":"${SID}","hook_event_name":"PostToolUse","tool_name":"Bash","tool_use_id":"big","tool_response":"`);
      const chunk = 'z'.repeat(1024 * 1024);
      for (let i = 0; i < 120; i++) out.write(chunk);
      out.end('"}', () => resolve());
    });
    spoolFile(home, 3, body('UserPromptSubmit'));
    const agent = await start(home, env);
    expectUp(agent);
    expect(await agent.counter('claude_otel_events_total', 'transport="spool"')).toBe(2);
    expect(await agent.counter('claude_otel_events_rejected_total', 'reason="too_large"')).toBe(1);
    expect(readdirSync(join(home, 'spool', 'rejected'))).toHaveLength(1); // kept, not deleted
    expect(agent.rssBytes()).toBeLessThan(150 * 1024 * 1024);
  });

  it('(d) a 93 MB journal of one long captured session: replayed as a stream, compacted, nothing open lost', async () => {
    const { receiver, home, env } = await receiverAndHome();
    // 18,000 closed tool calls with 2.5 KB of captured input each, plus one still-open tool, all
    // exported (the watermark is at the end): what a long session with capture on leaves behind.
    const file = join(home, 'journal.jsonl');
    const out = createWriteStream(file);
    let seq = 0;
    const line = (o: Record<string, unknown>) => out.write(`${JSON.stringify({ seq: ++seq, timeMs: 1_700_000_000_000 + seq, known: true, sessionId: SID, via: 'http', ...o })}\n`);
    line({ name: 'SessionStart', source: 'startup' });
    line({ name: 'UserPromptSubmit', promptId: 'p1', promptSize: 5, promptKind: 'user' });
    const input = 'i'.repeat(2500);
    for (let i = 0; i < 18_000; i++) {
      line({ name: 'PreToolUse', promptId: 'p1', toolName: 'Bash', toolUseId: `t${i}`, inputSize: 2500, input });
      line({ name: 'PostToolUse', promptId: 'p1', toolName: 'Bash', toolUseId: `t${i}`, inputSize: 2500, input, outputSize: 10, durationMs: 1 });
    }
    line({ name: 'PreToolUse', promptId: 'p1', toolName: 'Bash', toolUseId: 'still-open', inputSize: 2500, input });
    await new Promise<void>((r) => out.end(() => r()));
    writeFileSync(join(home, 'exported-seq'), `${seq}\n`);
    writeFileSync(join(home, 'clean-stop'), 'x\n');
    expect(statSync(file).size).toBeGreaterThan(90 * 1024 * 1024);
    const agent = await start(home, env);
    expectUp(agent);
    await waitUntil(() => statSync(file).size < 10 * 1024 * 1024, 20_000, 'the journal to be compacted');
    expect(agent.rssBytes()).toBeLessThan(150 * 1024 * 1024);
    await agent.stop('SIGKILL');
    const again = await start(home, env);
    expectUp(again);
    expect(await again.post(body('PostToolUse', { tool_use_id: 'still-open', duration_ms: 2 }))).toBe(200);
    const tool = await waitUntil(() => receiver.spans.find((s) => s.attributes['gen_ai.tool.call.id'] === 'still-open'), 15_000, 'the open tool span');
    expect(tool.attributes['claude_code.gap']).toBeUndefined();
    expect(receiver.spans.filter((s) => String(s.attributes['gen_ai.tool.call.id']).startsWith('t'))).toEqual([]); // exported before: not again
  });
});
