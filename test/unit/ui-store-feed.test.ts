import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeSpanLine, type StoredSpan } from '../../src/store/stored-span.js';
import { decodeCursor, encodeCursor, readChanges, readSnapshot } from '../../src/ui/store-feed.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'ui-feed-'));
  dirs.push(d);
  return d;
};

const span = (id: string, extra: Partial<StoredSpan> = {}): StoredSpan => ({
  traceId: 'a'.repeat(32), spanId: id.padStart(16, '0'), name: `span ${id}`, kind: 'internal',
  startTimeUnixNano: '1000000000', endTimeUnixNano: '2000000000', status: { code: 'unset' },
  attributes: { 'session.id': 'sess-1', 'claude_code.span.kind': 'tool' }, events: [], ...extra,
});
const line = (s: StoredSpan) => encodeSpanLine(s) + '\n';

describe('cursor encoding', () => {
  it('round-trips and rejects what is not a cursor', () => {
    const c = new Map([['sess-1', 1234], ['h-abc', 5]]);
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    expect(decodeCursor('0')).toEqual(new Map());
    for (const bad of ['', 'x', 'a/b:1', ':1', 'a:-1', 'a:zz!']) expect(decodeCursor(bad), bad).toBeUndefined();
    expect(decodeCursor(undefined)).toBeUndefined();
  });
});

describe('readSnapshot / readChanges', () => {
  it('delivers each appended line once, never a partial line, and new files whole', async () => {
    const dir = tempDir();
    const file = join(dir, 'sess-1.jsonl');
    writeFileSync(file, line(span('1')));
    const snap = await readSnapshot(dir);
    expect(snap.sessions.map((s) => s.sessionId)).toEqual(['sess-1']);
    const cursor = decodeCursor(encodeCursor(snap.cursor))!;
    expect(await readChanges(dir, cursor)).toEqual([]);

    // A line being written (no newline yet) is not delivered until it is complete.
    const second = line(span('2'));
    appendFileSync(file, second.slice(0, 20));
    expect(await readChanges(dir, cursor)).toEqual([]);
    appendFileSync(file, second.slice(20));
    const changes = await readChanges(dir, cursor);
    expect(changes.map((c) => c.spans.map((s) => s.spanId))).toEqual([[span('2').spanId]]);
    expect(changes[0]!.summary?.spans).toBe(2);

    // Resuming from a saved cursor (a restarted server) sees exactly what came after it.
    const saved = encodeCursor(cursor);
    appendFileSync(file, line(span('3')));
    writeFileSync(join(dir, 'sess-2.jsonl'), line(span('4', { attributes: { 'session.id': 'sess-2' } })));
    const resumed = await readChanges(dir, decodeCursor(saved)!);
    expect(resumed.map((c) => [c.fileKey, c.spans.map((s) => s.name)])).toEqual([
      ['sess-1', ['span 3']],
      ['sess-2', ['span 4']],
    ]);
  });

  it('forgets pruned files and rereads a file that was replaced by a shorter one', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'sess-1.jsonl'), line(span('1')) + line(span('2')));
    const cursor = (await readSnapshot(dir)).cursor;
    rmSync(join(dir, 'sess-1.jsonl'));
    expect(await readChanges(dir, cursor)).toEqual([]);
    expect(cursor.has('sess-1')).toBe(false);
    writeFileSync(join(dir, 'sess-1.jsonl'), line(span('9')));
    cursor.set('sess-1', 10_000);
    expect((await readChanges(dir, cursor)).flatMap((c) => c.spans.map((s) => s.name))).toEqual(['span 9']);
  });
});
