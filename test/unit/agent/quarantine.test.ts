import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createQuarantine } from '../../../src/agent/quarantine.js';

describe('createQuarantine', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the input with its stage, reason and error, and counts each entry', () => {
    dir = mkdtempSync(join(tmpdir(), 'cob-q-'));
    const counted: string[] = [];
    const q = createQuarantine({ dir, onQuarantined: (s, r) => counted.push(`${s}/${r}`) });
    q.start();
    q.keep({ stage: 'ingest', reason: 'apply_failed', error: 'TypeError: handler is not a function', body: '{"hook_event_name":"__proto__"}' });
    const [file] = readdirSync(dir);
    const entry = JSON.parse(readFileSync(join(dir, file!), 'utf8')) as Record<string, unknown>;
    expect(entry).toMatchObject({ stage: 'ingest', reason: 'apply_failed', error: 'TypeError: handler is not a function', body: '{"hook_event_name":"__proto__"}', truncated: false });
    expect(counted).toEqual(['ingest/apply_failed']);
    expect(q.summary()).toMatchObject({ count: 1, dropped: 0 });
  });

  it('is bounded in count and bytes: the oldest entries go, and every one that goes is counted', () => {
    dir = mkdtempSync(join(tmpdir(), 'cob-q-'));
    let dropped = 0;
    const q = createQuarantine({ dir, maxEntries: 5, maxBytes: 4000, maxEntryBytes: 500, onDropped: (n) => (dropped += n) });
    q.start();
    for (let i = 0; i < 20; i++) q.keep({ stage: 'spool', reason: 'malformed_json', body: `${i}:${'x'.repeat(2000)}` });
    const files = readdirSync(dir);
    const bytes = files.reduce((n, f) => n + readFileSync(join(dir, f)).length, 0);
    expect(files.length).toBeLessThanOrEqual(5);
    expect(bytes).toBeLessThanOrEqual(4000);
    expect(dropped).toBe(20 - files.length);
    expect(q.summary()).toMatchObject({ count: files.length, dropped, bytes });
    const newest = JSON.parse(readFileSync(join(dir, files.sort().at(-1)!), 'utf8')) as { body: string; truncated: boolean };
    expect(newest.body.startsWith('19:')).toBe(true);
    expect(newest.truncated).toBe(true); // capped per entry
  });

  it('finds its entries again after a restart and keeps the bound across runs', () => {
    dir = mkdtempSync(join(tmpdir(), 'cob-q-'));
    const first = createQuarantine({ dir, maxEntries: 3 });
    first.start();
    for (let i = 0; i < 3; i++) first.keep({ stage: 'replay', reason: 'apply_failed', body: String(i) });
    const second = createQuarantine({ dir, maxEntries: 3 });
    second.start();
    expect(second.summary().count).toBe(3);
    second.keep({ stage: 'replay', reason: 'apply_failed', body: 'new' });
    expect(readdirSync(dir)).toHaveLength(3);
    expect(second.summary().dropped).toBe(1);
  });

  it('never throws when it cannot write (the drop is counted)', () => {
    dir = mkdtempSync(join(tmpdir(), 'cob-q-'));
    let dropped = 0;
    const q = createQuarantine({ dir: join(dir, 'missing', 'deeper'), onDropped: (n) => (dropped += n) });
    q.keep({ stage: 'ingest', reason: 'malformed_json', body: 'x' }); // not started: its directory does not exist
    expect(dropped).toBe(1);
    q.shutdown();
    q.shutdown();
  });
});
