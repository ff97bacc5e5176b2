// Reliability finding 3: a full disk and a torn journal must not lose acknowledged events.
// (1) A 2 MiB tmpfs home fills up under load, then grows: the agent stays up throughout, answers
//     503 for what it could not keep (so a sender that can retry does), and every event it answered
//     200 for reaches the OTLP receiver, also across a kill -9 after the recovery, with no restart
//     needed to recover. (2) A journal cut 40 bytes short: the next acknowledged event is not glued
//     to the torn line, survives a kill -9, and no seq is used twice.
import { execFileSync } from 'node:child_process';
import { readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixture } from '../support/fixtures.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';
import { removeHome, startAgentProcess, tempHome, waitUntil, type AgentProcess } from './agent-process.js';

const SID = 'd15cf011-1111-4222-8333-444444444444';
const body = (name: string, o: Record<string, unknown> = {}) => JSON.stringify(fixture(name, { session_id: SID, prompt_id: 'p1', ...o }));
const isRoot = process.getuid?.() === 0;

describe('finding 3: disk full and torn journal', () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it.runIf(isRoot)('on a full tmpfs home: up throughout, zero acknowledged events lost, recovery without a restart', async () => {
    const receiver = await startOtlpReceiver();
    const home = tempHome('cob-diskfull-');
    cleanups.push(() => removeHome(home), () => receiver.close());
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', home]);
    cleanups.push(() => {
      execFileSync('umount', ['-l', home]);
    });
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, CLAUDE_OTEL_CAPTURE_TOOL_INPUTS: 'true', CLAUDE_OTEL_CAPTURE_MAX_BYTES: '16384' };
    const agent = await startAgentProcess({ home, env });
    cleanups.push(() => agent.stop('SIGKILL'));
    const pid = agent.child.pid;
    const input = { command: `echo ${'x'.repeat(12_000)}` };
    const acked = new Set<string>(); // tool ids whose PostToolUse was answered 200
    const preAcked = new Set<string>();
    let refused = 0;
    /** A sender that retries what was not acknowledged, as our node hook does (it spools and the agent retries). */
    const pair = async (id: string) => {
      if (!preAcked.has(id)) {
        const s = await agent.post(body('PreToolUse', { tool_use_id: id, tool_input: input }));
        if (s === 200) preAcked.add(id);
        else {
          expect(s).toBe(503);
          refused++;
          return false;
        }
      }
      const s = await agent.post(body('PostToolUse', { tool_use_id: id, tool_input: input, tool_response: { stdout: 'ok' }, duration_ms: 1 }));
      if (s === 200) acked.add(id);
      else {
        expect(s).toBe(503);
        refused++;
      }
      return s === 200;
    };
    expect(await agent.post(body('SessionStart'))).toBe(200);
    expect(await agent.post(body('UserPromptSubmit'))).toBe(200);
    const pending: string[] = [];
    for (let i = 0; refused < 20 && i < 2000; i++) {
      if (!(await pair(`t${i}`))) pending.push(`t${i}`);
      expect(agent.alive()).toBe(true);
    }
    expect(refused).toBeGreaterThanOrEqual(20); // the disk did fill up
    expect(await agent.healthy()).toBe(true);
    expect(await agent.counter('claude_otel_journal_write_failures_total')).toBeGreaterThan(0);
    expect(await agent.counter('claude_otel_events_unacknowledged_total')).toBeGreaterThan(0);

    execFileSync('mount', ['-o', 'remount,size=64m', home]); // space returns
    await waitUntil(async () => (await agent.status()).journal && ((await agent.status()).journal as { healthy: boolean }).healthy, 10_000, 'the journal to recover');
    for (const id of pending) await waitUntil(() => pair(id), 10_000, `pair ${id} to be acknowledged`);
    for (let i = 0; i < 20; i++) expect(await pair(`after${i}`)).toBe(true);
    expect(agent.child.pid).toBe(pid); // the same process throughout: no restart
    expect(agent.alive()).toBe(true);

    // Acknowledged means on disk: an open tool acknowledged now survives a crash.
    expect(await agent.post(body('PreToolUse', { tool_use_id: 'open-at-crash', tool_input: input }))).toBe(200);
    await agent.stop('SIGKILL');
    const again = await startAgentProcess({ home, env });
    cleanups.push(() => again.stop('SIGKILL'));
    expect(again.alive()).toBe(true);
    expect(await again.post(body('PostToolUse', { tool_use_id: 'open-at-crash', tool_response: { stdout: 'ok' }, duration_ms: 1 }))).toBe(200);
    acked.add('open-at-crash');
    const exported = await waitUntil(() => {
      const ids = new Set(receiver.spans.map((s) => String(s.attributes['gen_ai.tool.call.id'])));
      return [...acked].every((id) => ids.has(id)) && ids;
    }, 30_000, 'every acknowledged tool span to be exported').catch(() => new Set(receiver.spans.map((s) => String(s.attributes['gen_ai.tool.call.id']))));
    expect([...acked].filter((id) => !exported.has(id))).toEqual([]);
    const crashed = receiver.spans.find((s) => s.attributes['gen_ai.tool.call.id'] === 'open-at-crash')!;
    expect(crashed.attributes['claude_code.gap']).toBeUndefined(); // its PreToolUse was on disk
  });

  it('after a torn tail (truncate -s -40): the next acknowledged event survives a kill -9, and no seq is reused', async () => {
    const receiver = await startOtlpReceiver();
    const home = tempHome();
    cleanups.push(() => removeHome(home), () => receiver.close());
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };
    let agent: AgentProcess = await startAgentProcess({ home, env });
    cleanups.push(() => agent.stop('SIGKILL'));
    for (const [name, o] of [['SessionStart', {}], ['UserPromptSubmit', {}], ['PreToolUse', { tool_use_id: 'a' }], ['PreToolUse', { tool_use_id: 'b' }]] as const) {
      expect(await agent.post(body(name, o))).toBe(200);
    }
    await agent.stop('SIGKILL');
    const journal = join(home, 'journal.jsonl');
    truncateSync(journal, readFileSync(journal).length - 40); // a torn write after power loss
    agent = await startAgentProcess({ home, env });
    expect(agent.alive()).toBe(true);
    expect(await agent.post(body('PreToolUse', { tool_use_id: 'AFTER-TRUNCATION-ACKED' }))).toBe(200);
    await agent.stop('SIGKILL');
    agent = await startAgentProcess({ home, env });
    expect(agent.alive()).toBe(true);
    const seqs = readFileSync(journal, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { seq: number }).seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(await agent.post(body('PostToolUse', { tool_use_id: 'AFTER-TRUNCATION-ACKED', duration_ms: 1 }))).toBe(200);
    const span = await waitUntil(() => receiver.spans.find((s) => s.attributes['gen_ai.tool.call.id'] === 'AFTER-TRUNCATION-ACKED'), 15_000, 'the span');
    expect(span.attributes['claude_code.gap']).toBeUndefined(); // its PreToolUse was replayed
    const { quarantine } = (await agent.status()) as { quarantine: { recent: { reason: string }[] } };
    expect(quarantine.recent.map((e) => e.reason)).toEqual(['torn_tail']); // the fragment is kept, not glued to
  });
});
