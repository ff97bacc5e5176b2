// Property-based fuzzing of the agent's two ways in: HTTP ingest of a real agent process, and the
// journal it replays at start. Inputs are real Claude Code payloads (test/fixtures) mutated in
// field types, nesting, sizes and event names (Object.prototype keys included), plus raw garbage.
// Properties: the agent never crashes; its memory stays bounded; every input is accounted for
// (sent = accepted + rejected, from /metrics); a journal of such events never stops it starting.
//
// The RSS bound, 200 MB: the agent runs with --max-old-space-size=128 and --max-semi-space-size=6
// (src/agent/node-flags.ts), and its code, buffers and stacks take ~50-60 MB on top. An agent that
// held on to inputs would hit the heap limit and crash (caught by "never crashes"); one that leaked
// outside the heap (buffers of bodies) would pass 200 MB.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, recordedPayloads } from '../support/fixtures.js';
import { removeHome, startAgentProcess, tempHome, type AgentProcess } from '../faults/agent-process.js';

const RSS_BOUND = 200 * 1024 * 1024;
const PROTO = ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__defineGetter__', '__lookupSetter__', 'prototype'];
const NAMES = recordedPayloads().map((p) => p.name);
const KNOWN = [...new Set(recordedPayloads().map((p) => p.file.split('.')[0]!))];

/** Deep nesting is spliced in as text: JSON.stringify in this process would overflow its own stack. */
const DEEP = /"@deep:(\d+):(array|object)"/g;
const deepText = (depth: number, kind: string) => (kind === 'array' ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);

/** One mutation of a payload object. */
const mutation: fc.Arbitrary<(o: Record<string, unknown>) => void> = fc.oneof(
  fc.record({ key: fc.constantFrom('session_id', 'hook_event_name', 'tool_name', 'tool_use_id', 'prompt_id', 'tool_input', 'tool_response', 'prompt', 'error', 'tool_calls', 'agent_id', 'duration_ms'), value: fc.jsonValue({ maxDepth: 3 }) })
    .map(({ key, value }) => (o: Record<string, unknown>) => void (o[key] = value)),
  fc.constantFrom(...PROTO, ...KNOWN, '', 'x'.repeat(101), 'FutureEvent').map((name) => (o: Record<string, unknown>) => void (o.hook_event_name = name)),
  fc.record({ key: fc.constantFrom('tool_input', 'tool_response', 'extra'), depth: fc.oneof(fc.integer({ min: 1, max: 150 }), fc.integer({ min: 5000, max: 12000 })), asArray: fc.boolean() })
    .map(({ key, depth, asArray }) => (o: Record<string, unknown>) => void (o[key] = `@deep:${depth}:${asArray ? 'array' : 'object'}`)),
  fc.record({ key: fc.constantFrom('tool_response', 'prompt', 'extra'), size: fc.constantFrom(1_000, 100_000, 2_000_000) })
    .map(({ key, size }) => (o: Record<string, unknown>) => void (o[key] = 'y'.repeat(size))),
  fc.integer({ min: 100, max: 3000 }).map((n) => (o: Record<string, unknown>) => {
    for (let i = 0; i < n; i++) o[`f${i}`] = i;
  }),
  fc.constantFrom(...PROTO).map((key) => (o: Record<string, unknown>) => void Object.defineProperty(o, key, { value: { polluted: true }, enumerable: true, configurable: true, writable: true })),
  fc.constantFrom('session_id', 'hook_event_name', 'tool_use_id').map((key) => (o: Record<string, unknown>) => void delete o[key]),
);

/** A request body: a mutated real payload, sometimes cut short, or garbage. */
const payload: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ name: fc.constantFrom(...NAMES), session: fc.integer({ min: 0, max: 9 }), mutations: fc.array(mutation, { maxLength: 4 }), cut: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { freq: 8 }) })
    .map(({ name, session, mutations, cut }) => {
      const o = fixture(name, { session_id: `f022f022-1111-4222-8333-44444444444${session}` }); // some stay open: their events are kept
      for (const m of mutations) m(o);
      const text = JSON.stringify(o).replace(DEEP, (_m, d: string, kind: string) => deepText(Number(d), kind));
      return cut === null ? text : text.slice(0, Math.floor(text.length * cut));
    }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
);

describe('fuzz: agent ingest and replay', () => {
  let agent: AgentProcess;
  let home: string;
  beforeAll(async () => {
    home = tempHome('cob-fuzz-');
    agent = await startAgentProcess({ home, env: { CLAUDE_OTEL_CAPTURE_TOOL_INPUTS: 'true', CLAUDE_OTEL_CAPTURE_TOOL_OUTPUTS: 'true', CLAUDE_OTEL_CAPTURE_PROMPTS: 'true' } });
  });
  afterAll(async () => {
    await agent?.stop('SIGKILL');
    removeHome(home);
  });

  it('HTTP ingest: never crashes, bounded memory, every input accepted or counted as rejected', async () => {
    let sent = 0;
    let maxRss = 0;
    await fc.assert(
      fc.asyncProperty(payload, async (text) => {
        const status = await agent.post(text);
        sent++;
        maxRss = Math.max(maxRss, agent.rssBytes());
        return status === 200 && agent.alive();
      }),
      { numRuns: 250, seed: Number(process.env.FUZZ_SEED ?? 20261201) },
    );
    expect(agent.alive()).toBe(true);
    const accepted = await agent.counter('claude_otel_events_total');
    const rejected = await agent.counter('claude_otel_events_rejected_total');
    expect(accepted + rejected).toBe(sent);
    expect(maxRss).toBeLessThan(RSS_BOUND);
    // What was accepted is in the journal: a restart must not turn any of it into a crash loop.
    await agent.stop('SIGTERM');
    agent = await startAgentProcess({ home });
    expect({ alive: agent.alive(), log: agent.alive() ? '' : agent.log().slice(-2000) }).toEqual({ alive: true, log: '' });
    expect(await agent.healthy()).toBe(true);
  });

  it('journal replay: a journal of fuzzed events, garbage lines and a torn tail never stops the agent starting', async () => {
    await agent.stop('SIGTERM');
    const line = fc.oneof(
      { weight: 6, arbitrary: fc.record({
        seq: fc.oneof(fc.integer({ min: 1, max: 1e6 }), fc.constant(Number.MAX_SAFE_INTEGER)),
        name: fc.constantFrom(...PROTO, ...KNOWN, '@SessionClose', 'Future'),
        sessionId: fc.constantFrom('s1', 's2', '__proto__'),
        toolUseId: fc.option(fc.constantFrom('t1', 't2', 'constructor'), { nil: undefined }),
        extra: fc.dictionary(fc.constantFrom('toolName', 'promptId', 'agentId', 'batch', 'details', 'durationMs', 'timeMs', 'known', 'input'), fc.jsonValue({ maxDepth: 3 })),
      }).map(({ extra, ...ev }) => JSON.stringify({ timeMs: 1_700_000_000_000, known: true, ...ev, ...extra })) },
      { weight: 1, arbitrary: fc.string({ maxLength: 100 }).map((s) => s.replace(/\n/g, ' ')) },
      { weight: 1, arbitrary: fc.integer({ min: 5000, max: 8000 }).map((d) => `{"seq":7,"name":"X","sessionId":"s","details":${'['.repeat(d)}${']'.repeat(d)}}`) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 60 }), fc.string({ maxLength: 30 }), async (lines, torn) => {
        writeFileSync(join(home, 'journal.jsonl'), `${lines.join('\n')}\n${torn.replace(/\n/g, '')}`);
        const again = await startAgentProcess({ home });
        try {
          const up = again.alive() && (await again.healthy());
          const ok = up && (await again.post(JSON.stringify(fixture('SessionStart', { session_id: 'after-replay' })))) === 200;
          if (!ok) throw new Error(`agent did not start on this journal:\n${again.log().slice(-2000)}`);
          return true;
        } finally {
          await again.stop('SIGKILL');
        }
      }),
      { numRuns: 6, seed: Number(process.env.FUZZ_SEED ?? 20261201) },
    );
  });
});
