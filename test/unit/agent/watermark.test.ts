import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createJournal } from '../../../src/agent/journal.js';
import { closedAndExported, compactionTransform, createWatermark, JOURNAL_HEAD } from '../../../src/agent/watermark.js';
import { normalizeEvent } from '../../../src/events/normalize.js';
import { parseHookEvent } from '../../../src/events/schema.js';

import type { BridgeEvent } from '../../../src/model/types.js';
import { fixture, recordedPayloads } from '../../support/fixtures.js';

const loadFixtureEvents = () => recordedPayloads().map((p) => fixture(p.name) as unknown);

/** Journal lines as compaction reads them: any event shape (the union is too narrow for mixed fixtures). */
type Loose = BridgeEvent & Record<string, any>;
const e = (seq: number, name: string, extra: Record<string, unknown> = {}): Loose => ({ seq, timeMs: seq, name, known: true, sessionId: 'live', ...extra }) as Loose;
const journalOf = (events: BridgeEvent[]) => events.map((x) => JSON.stringify(x));
const run = (lines: string[], input: Parameters<typeof compactionTransform>[0]) => {
  const closed = closedAndExported((on) => lines.forEach(on), input.watermark);
  const t = compactionTransform(input, closed);
  return lines.map(t).filter((l): l is string => l !== undefined).map((l) => JSON.parse(l) as Loose);
};

describe('journal compaction policy', () => {
  const events = [
    e(1, 'SessionStart', { sessionId: 'ended' }),
    e(2, 'SessionEnd', { sessionId: 'ended' }),
    e(3, 'SessionStart'),
    e(4, 'UserPromptSubmit', { promptId: 'p', prompt: 'hello' }),
    e(5, 'PreToolUse', { toolUseId: 'done', toolName: 'Bash', input: 'x'.repeat(3000) }),
    e(6, 'PostToolUse', { toolUseId: 'done', toolName: 'Bash', input: 'x'.repeat(3000), output: 'y'.repeat(3000) }),
    e(7, 'PreToolUse', { toolUseId: 'open', toolName: 'Bash', input: 'still needed' }),
    e(8, 'PreToolUse', { toolUseId: 'late', toolName: 'Read', input: 'needed: its Post is after the watermark' }),
    e(9, 'PostToolUseFailure', { toolUseId: 'fail', toolName: 'Bash', error: 'E'.repeat(1000) }),
    e(10, 'PostToolUse', { toolUseId: 'late', toolName: 'Read', output: 'not exported yet' }),
  ];
  const open = [{ sessionId: 'live', tools: new Map([['open', {}]]) }];

  it('keeps everything after the watermark and every event of open sessions; drops ended sessions', () => {
    const kept = run(journalOf(events), { watermark: 9, open, aggressive: false });
    expect(kept.map((x) => x.seq)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('strips captured content only where the span closed at or below the watermark', () => {
    const kept = new Map(run(journalOf(events), { watermark: 9, open, aggressive: false }).map((x) => [x.seq, x]));
    expect(kept.get(5)!.input).toBeUndefined();
    expect(kept.get(6)!.output).toBeUndefined();
    expect(kept.get(6)!.toolUseId).toBe('done'); // the event itself stays: the session's state derives from it
    expect(kept.get(7)!.input).toBe('still needed'); // tool still open
    expect(kept.get(8)!.input).toBe('needed: its Post is after the watermark');
    expect(kept.get(10)!.output).toBe('not exported yet');
    expect(kept.get(9)!.error).toHaveLength(200);
    expect(kept.get(4)!.prompt).toBe('hello');
  });

  it('past the soft maximum drops the closed, exported successful tool pairs, keeping failures', () => {
    const kept = run(journalOf(events), { watermark: 9, open, aggressive: true });
    expect(kept.map((x) => x.seq)).toEqual([3, 4, 7, 8, 9, 10]);
  });

  it('decides on a line\'s head exactly as on the parsed line (a leading space defeats the head)', () => {
    const mixed = [...events, e(11, 'PostToolUse', { sessionId: 'with\\"escape', toolUseId: 'x' }), e(12, 'Stop', { sessionId: 'ended' })];
    const spaced = journalOf(mixed).map((l) => ` ${l}`);
    expect(spaced.some((l) => JOURNAL_HEAD.test(l))).toBe(false);
    for (let watermark = 0; watermark <= 12; watermark++) {
      for (const aggressive of [false, true]) {
        for (const failed of [undefined, new Set([3, 6, 11])]) {
          const input = { watermark, open, aggressive, ...(failed ? { failed } : {}) };
          expect(run(journalOf(mixed), input)).toEqual(run(spaced, input));
        }
      }
    }
  });

  it('reads the head of the lines the agent writes (normalized events start with seq, timeMs, name, known, sessionId)', () => {
    const receipt = { seq: 7, timeMs: 1764590000123.25, via: 'http' as const };
    const options = { capture: { prompts: false, toolInputs: false, toolOutputs: false }, captureValue: String };
    let seen = 0;
    for (const raw of loadFixtureEvents()) {
      const parsed = parseHookEvent(raw);
      if (!parsed.ok) continue;
      const line = JSON.stringify(normalizeEvent(parsed, receipt, options));
      const head = JOURNAL_HEAD.exec(line);
      expect(head, line.slice(0, 120)).not.toBeNull();
      expect([Number(head![1]), head![2], head![3]]).toEqual([7, parsed.event.hook_event_name, parsed.event.session_id]);
      seen++;
    }
    expect(seen).toBeGreaterThan(20);
  });

  it('drops lines that failed at replay', () => {
    const kept = run(journalOf(events), { watermark: 0, open, aggressive: false, failed: new Set([7]) });
    expect(kept.map((x) => x.seq)).not.toContain(7);
  });
});

describe('createWatermark', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('bounds a long captured session: the journal stays small while the session is open', () => {
    dir = mkdtempSync(join(tmpdir(), 'cob-wm-'));
    const journal = createJournal(join(dir, 'journal.jsonl'));
    journal.start();
    let mark = 0;
    const wm = createWatermark({
      file: join(dir, 'exported-seq'), journal, log: () => {}, current: () => mark, openState: () => [{ sessionId: 'live', tools: new Map() }],
      flush: async () => {}, floorBytes: 64 * 1024, softMaxBytes: 1024 * 1024,
    });
    journal.append(e(1, 'SessionStart'));
    let seq = 1;
    for (let i = 0; i < 2000; i++) {
      journal.append(e(++seq, 'PreToolUse', { toolUseId: `t${i}`, toolName: 'Bash', input: 'i'.repeat(6000) }));
      journal.append(e(++seq, 'PostToolUse', { toolUseId: `t${i}`, toolName: 'Bash', output: 'o'.repeat(6000) }));
      mark = seq; // exported
      if (journal.sizeBytes() > 2 * 1024 * 1024) wm.compact();
    }
    wm.compact();
    journal.flush();
    const size = readFileSync(join(dir, 'journal.jsonl')).length;
    expect(size).toBeLessThan(1024 * 1024); // 24 MB of captured content went through
    wm.persist();
    expect(readFileSync(join(dir, 'exported-seq'), 'utf8').trim()).toBe(String(mark));
    journal.shutdown();
  });

  it('reads the persisted watermark at create; shutdown without start is safe', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cob-wm-'));
    writeFileSync(join(dir, 'exported-seq'), '42\n');
    const journal = createJournal(join(dir, 'journal.jsonl'));
    const wm = createWatermark({ file: join(dir, 'exported-seq'), journal, log: () => {}, current: () => 42, openState: () => [], flush: async () => {} });
    expect(wm.initial).toBe(42);
    await wm.shutdown();
    await wm.shutdown();
  });
});
