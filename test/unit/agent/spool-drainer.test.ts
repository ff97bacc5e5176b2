import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createJournal } from '../../../src/agent/journal.js';
import { createQuarantine } from '../../../src/agent/quarantine.js';
import { createSpool } from '../../../src/agent/spool.js';
import { createSpoolDrainer } from '../../../src/agent/spool-drainer.js';
import type { IngestResult } from '../../../src/agent/ingest.js';

const event = (n: number) => JSON.stringify({ session_id: 's', hook_event_name: 'UserPromptSubmit', prompt: `p${n}` });

describe('createSpoolDrainer', () => {
  let home: string;
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  function setup(options: { maxEventBytes?: number; graceMs?: number; settleMs?: number; now?: () => number } = {}) {
    home = mkdtempSync(join(tmpdir(), 'cob-spool-'));
    const dirs = { spoolNew: join(home, 'spool', 'new'), spoolTmp: join(home, 'spool', 'tmp'), spoolRejected: join(home, 'spool', 'rejected') };
    for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
    const quarantine = createQuarantine({ dir: join(home, 'quarantine') });
    quarantine.start();
    const journal = createJournal(join(home, 'journal.jsonl'));
    journal.start();
    const ingested: string[] = [];
    const rejected: string[] = [];
    const ingest = (body: string): IngestResult => {
      try {
        JSON.parse(body);
      } catch {
        return { ok: false, reason: 'malformed_json' };
      }
      ingested.push(body);
      return { ok: true, event: { seq: ingested.length, timeMs: 0, name: 'X', known: false, sessionId: 's' } };
    };
    const drainer = createSpoolDrainer({
      spool: createSpool(dirs), spoolDir: dirs.spoolNew, journal, quarantine, ingest, watch: false, pollMs: 60_000,
      maxEventBytes: options.maxEventBytes ?? 1024 * 1024, graceMs: options.graceMs ?? 5000, settleMs: options.settleMs ?? 0,
      ...(options.now ? { now: options.now } : {}),
      onRejected: (reason) => rejected.push(reason), log: () => {},
    });
    const name = (n: number) => `${Date.now() * 1000 + n}-0-${n}.json`;
    const stop = () => {
      drainer.shutdown();
      journal.shutdown();
    };
    return { dirs, drainer, ingested, rejected, quarantine, name, stop };
  }

  it('does not ingest a symlink (even to a valid event), and moves the link, not its target, aside', () => {
    const { dirs, drainer, ingested, rejected, quarantine, name, stop } = setup();
    const foreign = join(home, 'foreign.json');
    writeFileSync(foreign, event(0));
    symlinkSync(foreign, join(dirs.spoolNew, name(1)));
    symlinkSync(join(home, 'nowhere'), join(dirs.spoolNew, name(2))); // dangling
    writeFileSync(join(dirs.spoolNew, name(3)), event(3));
    drainer.start();
    expect(ingested).toEqual([event(3)]);
    expect(rejected).toEqual(['symlink', 'symlink']);
    expect(existsSync(foreign)).toBe(true);
    expect(readdirSync(dirs.spoolNew)).toEqual([]);
    expect(quarantine.summary().recent.map((e) => e.reason)).toEqual(['symlink', 'symlink']);
    stop();
  });

  it('does not block on a FIFO, and sets it aside', () => {
    const { dirs, drainer, ingested, rejected, name, stop } = setup();
    execFileSync('mkfifo', [join(dirs.spoolNew, name(1))]);
    writeFileSync(join(dirs.spoolNew, name(2)), event(2));
    drainer.start(); // would hang here if the FIFO were opened for a blocking read
    expect(ingested).toEqual([event(2)]);
    expect(rejected).toEqual(['fifo']);
    expect(drainer.backlog()).toBe(0);
    stop();
  });

  it('sets aside a directory and an oversize file without reading them; the backlog is empty after', () => {
    const { dirs, drainer, ingested, rejected, name, stop } = setup({ maxEventBytes: 100 });
    mkdirSync(join(dirs.spoolNew, name(1)));
    writeFileSync(join(dirs.spoolNew, name(2)), JSON.stringify({ session_id: 's', hook_event_name: 'Stop', pad: 'x'.repeat(200) }));
    drainer.start();
    expect(ingested).toEqual([]);
    expect(rejected.sort()).toEqual(['directory', 'too_large']);
    expect(drainer.backlog()).toBe(0);
    expect(readdirSync(dirs.spoolRejected)).toHaveLength(2);
    stop();
  });

  it('leaves a young partial file for its writer, then ingests it once complete', () => {
    const { dirs, drainer, ingested, rejected, name, stop } = setup();
    const file = join(dirs.spoolNew, name(1));
    const full = event(1);
    writeFileSync(file, full.slice(0, 20)); // an old hook still writing straight into new/
    drainer.start();
    expect(ingested).toEqual([]);
    expect(rejected).toEqual([]);
    expect(drainer.backlog()).toBe(1);
    writeFileSync(file, full);
    drainer.drain();
    expect(ingested).toEqual([full]);
    stop();
  });

  it('rejects a partial file once its writer has been quiet for the grace period', () => {
    const { dirs, drainer, ingested, rejected, name, stop } = setup({ graceMs: 1000 });
    const file = join(dirs.spoolNew, name(1));
    writeFileSync(file, '{"session_id":"s",');
    const old = (Date.now() - 5000) / 1000;
    utimesSync(file, old, old);
    drainer.start();
    expect(ingested).toEqual([]);
    expect(rejected).toEqual([]); // counted by the ingestor (malformed_json); here: moved aside
    expect(readdirSync(dirs.spoolRejected)).toHaveLength(1);
    stop();
  });

  it('never reads spool/tmp', () => {
    const { dirs, drainer, ingested, name, stop } = setup();
    writeFileSync(join(dirs.spoolTmp, name(1)), event(1));
    drainer.start();
    expect(ingested).toEqual([]);
    expect(readdirSync(dirs.spoolTmp)).toHaveLength(1);
    stop();
  });

  it('is a component: shutdown without start, and twice, is safe', () => {
    const { drainer, stop } = setup();
    drainer.shutdown();
    stop();
  });

  describe('settling (hooks Claude Code does not await publish side by side)', () => {
    const at = (ms: number, n: number) => `${Math.round(ms * 1000)}-0-${n}.json`;

    it('leaves an entry received less than the settle time ago, with every entry after it, and takes them in receipt order once settled', () => {
      let clock = Date.now();
      const { dirs, drainer, ingested, stop } = setup({ settleMs: 50, now: () => clock });
      const t0 = clock - 1000;
      writeFileSync(join(dirs.spoolNew, at(t0, 1)), event(1)); // settled
      writeFileSync(join(dirs.spoolNew, at(clock - 5, 3)), event(3)); // a PostToolUse published first...
      drainer.start();
      expect(ingested).toEqual([event(1)]);
      writeFileSync(join(dirs.spoolNew, at(clock - 10, 2)), event(2)); // ...then the PreToolUse received before it
      drainer.drain(true);
      expect(ingested).toEqual([event(1)]);
      clock += 60;
      drainer.drain(true);
      expect(ingested).toEqual([event(1), event(2), event(3)]);
      stop();
    });

    it('drains by itself once the waiting entry has settled (no poll, no watch)', async () => {
      const { dirs, drainer, ingested, stop } = setup({ settleMs: 50 });
      writeFileSync(join(dirs.spoolNew, at(Date.now(), 1)), event(1));
      drainer.start();
      expect(ingested).toEqual([]);
      await new Promise((r) => setTimeout(r, 150));
      expect(ingested).toEqual([event(1)]);
      stop();
    });

    it('takes young entries at once before an http event (drainIfDirty) and at shutdown', () => {
      const clock = Date.now();
      const first = setup({ settleMs: 50, now: () => clock });
      writeFileSync(join(first.dirs.spoolNew, at(clock - 1, 1)), event(1));
      first.drainer.start();
      expect(first.ingested).toEqual([]);
      first.drainer.drainIfDirty();
      expect(first.ingested).toEqual([event(1)]);
      writeFileSync(join(first.dirs.spoolNew, at(clock - 1, 2)), event(2));
      first.drainer.drain(true);
      expect(first.ingested).toEqual([event(1)]);
      first.stop();
      expect(first.ingested).toEqual([event(1), event(2)]);
    });

    it('takes the settled entries for the reaper (takeNowFor) and names the processes that still have one waiting', () => {
      let clock = Date.now();
      const { dirs, drainer, ingested, stop } = setup({ settleMs: 50, now: () => clock });
      const of = (pid: number, n: number, ms = clock) => `${Math.round(ms * 1000)}-${pid}-${n}.json`;
      writeFileSync(join(dirs.spoolNew, of(41, 1, clock - 100)), event(1)); // its Stop, settled but not drained yet
      writeFileSync(join(dirs.spoolNew, of(42, 2, clock - 100)), event(2));
      expect([...drainer.takeNowFor([41])]).toEqual([41]); // not started: nothing is taken
      drainer.start();
      expect(ingested).toEqual([event(1), event(2)]);
      writeFileSync(join(dirs.spoolNew, of(41, 3, clock - 1)), event(3)); // its SessionEnd, just published: settling
      writeFileSync(join(dirs.spoolNew, of(44, 4, clock - 1)), event(4));
      expect([...drainer.takeNowFor([41, 43])]).toEqual([41]); // 44 waits too, but was not asked about
      expect(ingested).toEqual([event(1), event(2)]);
      clock += 60;
      writeFileSync(join(dirs.spoolNew, of(43, 5, clock - 6_000)), event(5).slice(0, 20)); // still being written (an old hook)
      expect([...drainer.takeNowFor([41, 43])]).toEqual([43]);
      expect(ingested).toEqual([event(1), event(2), event(3), event(4)]);
      expect(drainer.backlog()).toBe(1);
      stop();
    });

    it('does not wait for an entry dated more than a second ahead (a clock stepped back), nor for a foreign name', () => {
      const clock = Date.now();
      const { dirs, drainer, ingested, stop } = setup({ settleMs: 50, now: () => clock });
      writeFileSync(join(dirs.spoolNew, at(clock + 5000, 1)), event(1));
      writeFileSync(join(dirs.spoolNew, 'zz-foreign.json'), event(2));
      drainer.start();
      expect(ingested.sort()).toEqual([event(1), event(2)].sort());
      stop();
    });
  });
});
