import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync, ftruncateSync, fsyncSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createJournal, JournalUnavailable, type JournalIo } from '../../../src/agent/journal.js';
import { createQuarantine } from '../../../src/agent/quarantine.js';
import type { BridgeEvent } from '../../../src/model/types.js';

type Loose = BridgeEvent & Record<string, any>;
const ev = (seq: number, extra: Record<string, unknown> = {}): Loose => ({ seq, timeMs: 1000 + seq, name: 'PreToolUse', known: true, sessionId: 's', toolUseId: `t${seq}`, ...extra }) as Loose;
const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Loose);

/** Real file operations, with faults switched on by the test. */
function faultyIo() {
  const io = {
    maxPerWrite: Infinity,
    failAfterBytes: Infinity as number, // ENOSPC once this many bytes were written in total
    written: 0,
    writeSync(fd: number, buffer: Buffer, offset: number, length: number) {
      const room = io.failAfterBytes - io.written;
      if (room <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      const n = writeSync(fd, buffer, offset, Math.min(length, io.maxPerWrite, room));
      io.written += n;
      return n;
    },
    fsyncSync,
    ftruncateSync,
  };
  return io satisfies JournalIo;
}

describe('createJournal', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const setup = (io?: JournalIo, extra: { maxPendingBytes?: number } = {}) => {
    dir = mkdtempSync(join(tmpdir(), 'cob-journal-'));
    const quarantine = createQuarantine({ dir: join(dir, 'quarantine') });
    quarantine.start();
    const file = join(dir, 'journal.jsonl');
    const journal = createJournal(file, { quarantine, io, retryMs: 10_000, ...extra });
    return { file, journal, quarantine };
  };

  it('continues short writes until the whole record is on disk', async () => {
    const io = faultyIo();
    io.maxPerWrite = 7; // the kernel may write less than asked (a full disk, a signal)
    const { file, journal } = setup(io);
    journal.start();
    for (let i = 1; i <= 5; i++) journal.append(ev(i, { input: 'x'.repeat(100) }));
    await journal.flushSoon();
    expect(lines(file).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    journal.shutdown();
  });

  it('cuts a torn last line at start, quarantines it, appends on a fresh line and does not reuse its seq', () => {
    const { file, journal, quarantine } = setup();
    writeFileSync(file, `${JSON.stringify(ev(1))}\n${JSON.stringify(ev(2))}\n${JSON.stringify(ev(3))}\n`);
    truncateSync(file, readFileSync(file).length - 10); // power loss in the middle of the last record
    journal.start();
    expect(journal.stats().tornTails).toBe(1);
    expect(journal.recoveredSeq()).toBe(3);
    expect(quarantine.summary().recent.map((e) => [e.stage, e.reason])).toEqual([['journal', 'torn_tail']]);
    journal.append(ev(4));
    expect(journal.flush()).toBe(true);
    expect(lines(file).map((e) => e.seq)).toEqual([1, 2, 4]); // the next record is whole, not glued to the fragment
    journal.shutdown();
  });

  it('on ENOSPC keeps only whole records, refuses the waiters, keeps the buffer and writes it when space returns', async () => {
    const io = faultyIo();
    const { file, journal } = setup(io, { maxPendingBytes: 2000 });
    journal.start();
    journal.append(ev(1));
    await journal.flushSoon();
    io.failAfterBytes = io.written + 30; // the next write gets 30 bytes in, then the disk is full
    journal.append(ev(2, { input: 'y'.repeat(500) }));
    await expect(journal.flushSoon()).rejects.toBeInstanceOf(JournalUnavailable);
    expect(lines(file).map((e) => e.seq)).toEqual([1]); // the 30 bytes were cut back
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
    expect(journal.stats()).toMatchObject({ healthy: false, writeFailures: 1 });
    expect(journal.accepting()).toBe(true); // room in the buffer
    journal.append(ev(3, { input: 'z'.repeat(2000) }));
    expect(journal.flush()).toBe(false);
    expect(journal.accepting()).toBe(false); // buffer past its bound: take no more
    io.failAfterBytes = Infinity; // space returns
    expect(journal.flush()).toBe(true);
    expect(lines(file).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(journal.stats().healthy).toBe(true);
    expect(journal.accepting()).toBe(true);
    journal.shutdown();
  });

  it('retries a failed write from its own timer, without anyone flushing', async () => {
    const io = faultyIo();
    dir = mkdtempSync(join(tmpdir(), 'cob-journal-'));
    const file = join(dir, 'journal.jsonl');
    const journal = createJournal(file, { io, retryMs: 20 });
    journal.start();
    io.failAfterBytes = 0;
    journal.append(ev(1));
    expect(journal.flush()).toBe(false);
    io.failAfterBytes = Infinity;
    for (let i = 0; i < 100 && !journal.stats().healthy; i++) await new Promise((r) => setTimeout(r, 10));
    expect(lines(file).map((e) => e.seq)).toEqual([1]);
    journal.shutdown();
  });

  it('replays line by line and skips lines over the cap', () => {
    dir = mkdtempSync(join(tmpdir(), 'cob-journal-'));
    const file = join(dir, 'journal.jsonl');
    writeFileSync(file, `${JSON.stringify(ev(1))}\n${JSON.stringify(ev(2, { input: 'q'.repeat(5000) }))}\n${JSON.stringify(ev(3))}\n`);
    const journal = createJournal(file, { maxLineBytes: 1000 });
    journal.start();
    const seen: number[] = [];
    const r = journal.replay((line) => seen.push((JSON.parse(line) as BridgeEvent).seq));
    expect(seen).toEqual([1, 3]);
    expect(r).toEqual({ lines: 2, tooLong: 1 });
    journal.shutdown();
  });

  it('leaves the journal unchanged when a compaction cannot be written', () => {
    const io = faultyIo();
    const { file, journal } = setup(io);
    journal.start();
    for (let i = 1; i <= 3; i++) journal.append(ev(i));
    journal.flush();
    io.failAfterBytes = io.written + 5;
    expect(journal.rewrite((l) => l)).toBeUndefined();
    expect(lines(file).map((e) => e.seq)).toEqual([1, 2, 3]);
    io.failAfterBytes = Infinity;
    expect(journal.rewrite((l) => ((JSON.parse(l) as BridgeEvent).seq === 2 ? undefined : l))).toEqual({ kept: 2, dropped: 1 });
    expect(lines(file).map((e) => e.seq)).toEqual([1, 3]);
    journal.append(ev(4));
    journal.flush();
    expect(lines(file).map((e) => e.seq)).toEqual([1, 3, 4]); // appends go to the rewritten file
    journal.shutdown();
  });

  it('is a component: shutdown without start, and twice, is safe', () => {
    dir = mkdtempSync(join(tmpdir(), 'cob-journal-'));
    const journal = createJournal(join(dir, 'journal.jsonl'));
    journal.shutdown();
    journal.shutdown();
    const again = createJournal(join(dir, 'journal.jsonl'));
    again.start();
    again.shutdown();
    again.shutdown();
  });
});
