import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { createIngestor } from '../../../src/agent/ingest.js';
import { createJournal } from '../../../src/agent/journal.js';
import { createAgentMetrics } from '../../../src/agent/metrics.js';
import { createQuarantine } from '../../../src/agent/quarantine.js';
import { createTraceBuilder } from '../../../src/model/trace-builder.js';
import type { BridgeEvent } from '../../../src/model/types.js';
import { fixture } from '../../support/fixtures.js';

const SID = 'abababab-1111-4222-8333-444444444444';
const body = (name: string, o: Record<string, unknown> = {}) => JSON.stringify(fixture(name, { session_id: SID, prompt_id: 'p1', ...o }));

describe('createIngestor', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A real builder whose apply throws for one tool_use_id: stands in for any bug or poison in the model. */
  function setup(existing?: string) {
    dir = existing ?? mkdtempSync(join(tmpdir(), 'cob-ingest-'));
    const quarantine = createQuarantine({ dir: join(dir, 'quarantine') });
    quarantine.start();
    const journal = createJournal(join(dir, 'journal.jsonl'), { quarantine });
    journal.start();
    const real = createTraceBuilder();
    const builder = { ...real, apply: (ev: BridgeEvent) => ('toolUseId' in ev && ev.toolUseId === 'poison' ? (() => { throw new TypeError('handler is not a function'); })() : real.apply(ev)) };
    const spans: string[] = [];
    const metrics = createAgentMetrics(new MeterProvider().getMeter('t'), { openSpans: () => 0, openSessions: () => 0, spoolBacklog: () => 0, exportPending: () => 0, journalBytes: () => 0, quarantineEntries: () => 0, exportBufferBytes: () => 0 });
    const ingestor = createIngestor({
      journal, builder: builder as typeof real, quarantine, metrics, log: () => {},
      sink: { emitSpan: (s) => spans.push(String(s.attributes['gen_ai.tool.call.id'] ?? s.name)), emitLog: () => {} },
      normalize: { capture: { prompts: false, toolInputs: false, toolOutputs: false }, captureValue: String },
    });
    return { journal, quarantine, ingestor, spans };
  }
  const receipt = { timeMs: 1, via: 'http' as const };

  it('quarantines an event whose apply throws, does not journal it, and goes on', () => {
    const { journal, quarantine, ingestor, spans } = setup();
    expect(ingestor.ingest(body('SessionStart'), receipt).ok).toBe(true);
    expect(ingestor.ingest(body('UserPromptSubmit'), receipt).ok).toBe(true);
    expect(ingestor.ingest(body('PreToolUse', { tool_use_id: 'poison' }), receipt)).toEqual({ ok: false, reason: 'apply_failed' });
    expect(ingestor.ingest(body('PreToolUse', { tool_use_id: 'good' }), receipt).ok).toBe(true);
    expect(ingestor.ingest(body('PostToolUse', { tool_use_id: 'good' }), receipt).ok).toBe(true);
    journal.flush();
    const journaled = readFileSync(join(dir, 'journal.jsonl'), 'utf8');
    expect(journaled).not.toContain('poison');
    expect(spans).toContain('good');
    expect(quarantine.summary().recent.map((e) => [e.stage, e.reason])).toEqual([['ingest', 'apply_failed']]);
    const entry = readFileSync(join(dir, 'quarantine', readdirSync(join(dir, 'quarantine'))[0]!), 'utf8');
    expect(entry).toContain('handler is not a function');
    expect(entry).toContain('poison');
  });

  it("keeps a valid TRACEPARENT on the event (journaled, so a replay links again) and drops a bad one without losing the event", () => {
    const { journal, ingestor } = setup();
    const tp = '00-020a789ffab785e1a8b04ef05d6af3fd-e2d6218b9ac59cdb-01';
    const ok = ingestor.ingest(body('UserPromptSubmit'), { ...receipt, via: 'spool', traceparent: tp });
    expect(ok.ok && ok.event.traceparent).toBe(tp);
    const bad = ingestor.ingest(body('Stop'), { ...receipt, traceparent: '00-020a789ffab785e1a8b04ef05d6af3fd-0000000000000000-01' });
    expect(bad.ok && 'traceparent' in bad.event).toBe(false);
    journal.flush();
    const lines = readFileSync(join(dir, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as BridgeEvent);
    expect(lines.map((l) => l.traceparent)).toEqual([tp, undefined]);
  });

  it('quarantines inputs over the size and depth limits before parsing them', () => {
    const { ingestor, quarantine } = setup();
    const deep = `{"session_id":"${SID}","hook_event_name":"PreToolUse","tool_name":"Bash","tool_use_id":"d","tool_input":${'['.repeat(6000)}${']'.repeat(6000)}}`;
    expect(ingestor.ingest(deep, receipt)).toEqual({ ok: false, reason: 'too_deep' });
    expect(ingestor.ingest(' '.repeat(9 * 1024 * 1024), receipt)).toEqual({ ok: false, reason: 'empty' });
    expect(ingestor.ingest(`{"a":"${'x'.repeat(9 * 1024 * 1024)}"}`, receipt)).toEqual({ ok: false, reason: 'too_large' });
    expect(quarantine.summary().recent.map((e) => e.reason)).toEqual(['too_deep', 'too_large']);
  });

  it('at replay skips a line that throws, quarantines it, replays the rest and reports its seq', () => {
    const first = setup();
    first.ingestor.ingest(body('SessionStart'), receipt);
    first.ingestor.ingest(body('UserPromptSubmit'), receipt);
    first.ingestor.ingest(body('PreToolUse', { tool_use_id: 'kept' }), receipt);
    // A journal written by an older agent (apply ran after the append): the poison is on disk.
    first.journal.append({ seq: 4, timeMs: 2, name: 'PreToolUse', known: true, sessionId: SID, toolUseId: 'poison', toolName: 'Bash' });
    first.journal.append({ seq: 5, timeMs: 3, name: 'PostToolUse', known: true, sessionId: SID, toolUseId: 'kept', toolName: 'Bash' });
    first.journal.append('not json' as unknown as BridgeEvent);
    first.journal.shutdown();
    const second = setup(dir);
    const r = second.ingestor.replay(0);
    expect(r.events).toBe(4);
    expect(r.corrupt).toBe(1);
    expect([...r.failed]).toEqual([4]);
    expect(second.spans).toContain('kept'); // the rest replayed, and its span was rebuilt
    expect(second.ingestor.lastSeq()).toBe(5);
    expect(second.quarantine.summary().recent.map((e) => [e.stage, e.reason]).sort()).toEqual([['replay', 'apply_failed'], ['replay', 'unreadable_line']]);
    second.journal.shutdown();
  });
});
