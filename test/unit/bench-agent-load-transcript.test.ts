// bench/agent-load/transcript.ts: the transcripts the load generator writes are what the agent's real
// reader and model-call processor turn into exactly the calls the bench then expects, read step by
// step the way the agent reads them (each call completes at the event after its response).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chatCallsPerSession, loadTemplates, SessionTranscript, transcriptPath } from '../../bench/agent-load/transcript.js';
import { createUsageLedger } from '../../src/model-calls/ledger.js';
import { createPricer } from '../../src/model-calls/prices.js';
import { createModelCallProcessor, type ProcessedCall } from '../../src/model-calls/processor.js';
import { spanIdFor, spanKeys } from '../../src/model/ids.js';
import { createTranscriptReader } from '../../src/transcript/reader.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'claude-code-2.1.332', 'transcripts', 'session.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'bench-transcript-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench/agent-load transcripts', () => {
  it('yield T + 1 calls with the events’ tool_use ids, the prompt id and the templated usage, each complete at the event after it', () => {
    const T = 4;
    const sid = randomUUID();
    const pid = randomUUID();
    const path = transcriptPath(dir, sid);
    const w = new SessionTranscript(loadTemplates(FIXTURE), path, sid, pid);
    const reader = createTranscriptReader();
    const ledger = createUsageLedger();
    const p = createModelCallProcessor({ ledger, pricer: createPricer({}), now: () => 1 });
    const read = (): ProcessedCall[] => {
      const recs: Record<string, unknown>[] = [];
      reader.read(path, (r) => recs.push(r));
      return p.records(path, sid, undefined, recs);
    };
    const calls: ProcessedCall[] = [];
    w.prompt();
    expect(read()).toEqual([]);
    const tids = Array.from({ length: T }, (_, i) => `toolu_bench_${sid.slice(0, 8)}_${i}`);
    for (const [i, tid] of tids.entries()) {
      w.toolCall(i, tid);
      expect(read()).toEqual([]); // PreToolUse: the response is not complete yet
      expect(p.responseIdForToolUse(tid)).toBeDefined(); // but its tool call is linkable
      w.toolResult(tid);
      const done = read(); // PostToolBatch: the tool result completes it
      expect(done).toHaveLength(1);
      calls.push(...done);
    }
    w.final(T);
    expect(read()).toEqual([]);
    calls.push(...p.flush(path)); // Stop
    w.end();
    expect(read()).toEqual([]); // SessionEnd: the cost state only

    expect(calls).toHaveLength(chatCallsPerSession(T));
    const turn = spanIdFor(sid, spanKeys.turn(pid));
    calls.forEach(({ call, span }, i) => {
      expect(call.promptId).toBe(pid);
      expect(span.parentSpanId).toBe(turn);
      expect(call.toolUseIds).toEqual(i < T ? [tids[i]] : []);
      expect(call.finishReason).toBe(i < T ? 'tool_use' : 'end_turn');
      expect(call.usage).toMatchObject({ input: 101 + 100 * i, output: 12 + 10 * i, cacheRead: 1003 + 1000 * i, cacheCreation: 54 + 50 * i });
      expect(call.endMs).toBeGreaterThanOrEqual(call.startMs);
    });
    expect(new Set(calls.map((c) => c.call.responseId)).size).toBe(T + 1);
    expect(ledger.usageFor(turn)?.calls).toBe(T + 1);
    expect(ledger.sessionCost(sid)).toBeGreaterThan(0); // the cost-state row was recognized
    // every line is a JSON object, and the rows it does not use are the fixture's other types
    type Line = { type: string; uuid?: string; sourceToolAssistantUUID?: string; message?: { id?: string; content?: { type: string; id?: string; tool_use_id?: string }[] } };
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
    // as Claude Code writes them: each tool result names its tool_use id and the assistant row that asked for it
    const results = lines.filter((l) => l.type === 'user' && l.message?.content?.[0]?.type === 'tool_result');
    expect(results.map((l) => l.message!.content![0]!.tool_use_id)).toEqual(tids);
    const asking = results.map((l) => lines.find((a) => a.uuid === l.sourceToolAssistantUUID));
    expect(asking.map((a) => a?.message?.content?.[0]?.id)).toEqual(tids);
    expect(lines.length).toBe(w.records);
    expect(reader.counters.malformed).toBe(0);
    expect(Object.keys(p.counters.otherTypes).sort()).toEqual(['api-request-blob', 'api-request-shape', 'atis-latch', 'attachment', 'last-prompt', 'queue-operation', 'tools-used']);
    expect(lines.every((l) => !JSON.stringify(l).includes('d123ecba'))).toBe(true); // the fixture's session id is replaced everywhere
  });
});
