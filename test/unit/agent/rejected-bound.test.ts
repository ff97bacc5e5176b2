// spool/rejected/ stays within its bound in count and bytes: the oldest entries go first, each is
// counted. Through the real spool and drainer (malformed events set aside), and on a directory left
// over the bound by an earlier agent.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createJournal } from '../../../src/agent/journal.js';
import { createQuarantine } from '../../../src/agent/quarantine.js';
import { createRejectedBound } from '../../../src/agent/rejected-bound.js';
import { createSpool } from '../../../src/agent/spool.js';
import { createSpoolDrainer } from '../../../src/agent/spool-drainer.js';
import type { IngestResult } from '../../../src/agent/ingest.js';
import { REJECTED_MAX_ENTRIES } from '../../../src/agent/rejected-bound.js';
import { startTestAgent } from '../../support/agent-harness.js';

let home: string;
afterEach(() => rmSync(home, { recursive: true, force: true }));

function setup(bound: { maxEntries?: number; maxBytes?: number }) {
  home = mkdtempSync(join(tmpdir(), 'cob-rejected-'));
  const dirs = { spoolNew: join(home, 'spool', 'new'), spoolRejected: join(home, 'spool', 'rejected') };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  const evictions: number[] = [];
  const rejected = createRejectedBound({ dir: dirs.spoolRejected, ...bound, onEvicted: (n) => evictions.push(n) });
  const quarantine = createQuarantine({ dir: join(home, 'quarantine') });
  quarantine.start();
  const journal = createJournal(join(home, 'journal.jsonl'));
  journal.start();
  const ingest = (body: string): IngestResult => {
    try {
      JSON.parse(body);
      return { ok: true, event: { seq: 1, timeMs: 0, name: 'X', known: false, sessionId: 's' } };
    } catch {
      return { ok: false, reason: 'malformed_json' };
    }
  };
  const drainer = createSpoolDrainer({
    spool: createSpool(dirs, { rejected }), spoolDir: dirs.spoolNew, journal, quarantine, ingest, watch: false, pollMs: 60_000,
    maxEventBytes: 1024 * 1024, graceMs: 0, onRejected: () => {}, log: () => {},
  });
  const t0 = Date.now() * 1000 - 10_000_000;
  const name = (n: number) => `${t0 + n}-0-${n}.json`;
  const stop = () => {
    drainer.shutdown();
    journal.shutdown();
  };
  /** A spooled entry its hook finished writing a while ago (a young unparsable one may be half-written). */
  const spool = (n: number, body: string) => {
    const file = join(dirs.spoolNew, name(n));
    writeFileSync(file, body);
    const past = new Date(Date.now() - 60_000);
    utimesSync(file, past, past);
  };
  return { dirs, drainer, rejected, evictions, name, spool, stop };
}

describe('spool/rejected bound', () => {
  it('keeps the newest entries within the count bound, removing and counting the oldest', () => {
    const { dirs, drainer, rejected, evictions, name, spool, stop } = setup({ maxEntries: 3 });
    for (let i = 1; i <= 5; i++) spool(i, `{not json ${i}`);
    drainer.start();
    expect(readdirSync(dirs.spoolRejected).sort()).toEqual([name(3), name(4), name(5)]);
    expect(readdirSync(dirs.spoolNew)).toEqual([]);
    expect(evictions.reduce((a, b) => a + b, 0)).toBe(2);
    expect(rejected.stats()).toMatchObject({ entries: 3, evicted: 2 });
    // More later: still three, the newest.
    spool(6, '{nope');
    drainer.drain();
    expect(readdirSync(dirs.spoolRejected).sort()).toEqual([name(4), name(5), name(6)]);
    expect(rejected.stats().evicted).toBe(3);
    stop();
  });

  it('keeps the entries within the byte bound (the newest always stays)', () => {
    const { dirs, drainer, rejected, name, spool, stop } = setup({ maxBytes: 2500 });
    for (let i = 1; i <= 4; i++) spool(i, `{${'x'.repeat(999)}`); // 1000 bytes each, not JSON
    drainer.start();
    expect(readdirSync(dirs.spoolRejected).sort()).toEqual([name(3), name(4)]);
    expect(rejected.stats()).toEqual({ entries: 2, bytes: 2000, evicted: 2 });
    spool(5, `{${'y'.repeat(4999)}`); // alone over the bound
    drainer.drain();
    expect(readdirSync(dirs.spoolRejected)).toEqual([name(5)]);
    stop();
  });

  it('trims a directory an earlier agent left over the bound when the drainer starts', () => {
    const { dirs, drainer, evictions, name, stop } = setup({ maxEntries: 2 });
    for (let i = 1; i <= 6; i++) writeFileSync(join(dirs.spoolRejected, name(i)), '{old');
    drainer.start();
    expect(readdirSync(dirs.spoolRejected).sort()).toEqual([name(5), name(6)]);
    expect(evictions).toEqual([4]);
    stop();
  });

  it('the agent trims at start and counts it in claude_otel_spool_rejected_evicted_total', async () => {
    home = mkdtempSync(join(tmpdir(), 'cob-rejected-agent-'));
    const dir = join(home, 'spool', 'rejected');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const t0 = Date.now() * 1000 - 10_000_000;
    for (let i = 0; i < REJECTED_MAX_ENTRIES + 3; i++) writeFileSync(join(dir, `${t0 + i}-0-${i}.json`), '{x', { mode: 0o600 });
    const agent = await startTestAgent({ home });
    try {
      expect(readdirSync(dir)).toHaveLength(REJECTED_MAX_ENTRIES);
      expect(readdirSync(dir)).not.toContain(`${t0}-0-0.json`);
      expect(await agent.metrics()).toMatch(/^claude_otel_spool_rejected_evicted_total(\{[^}]*\})? 3$/m);
    } finally {
      await agent.stop();
    }
  });
});
