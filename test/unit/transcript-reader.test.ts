import { appendFileSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createTranscriptReader } from '../../src/transcript/reader.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function file(content = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'reader-'));
  dirs.push(dir);
  const path = join(dir, 't.jsonl');
  writeFileSync(path, content);
  return path;
}
/** Descriptors this process holds (the reader keeps recent files open). */
const openFds = () => readdirSync('/proc/self/fd').length;
const collect = (reader: ReturnType<typeof createTranscriptReader>, path: string) => {
  const got: Record<string, unknown>[] = [];
  const outcome = reader.read(path, (r) => got.push(r));
  return { got, outcome };
};

describe('createTranscriptReader', () => {
  it('reads only what was appended since the last read', () => {
    const path = file('{"n":1}\n{"n":2}\n');
    const reader = createTranscriptReader();
    expect(collect(reader, path).got).toEqual([{ n: 1 }, { n: 2 }]);
    expect(collect(reader, path).got).toEqual([]);
    appendFileSync(path, '{"n":3}\n');
    expect(collect(reader, path).got).toEqual([{ n: 3 }]);
    expect(reader.position(path)?.offset).toBe(24);
  });

  it('a read that finds nothing new is cheap, and never follows a file replaced by a link of the same size', () => {
    const path = file('{"n":1}\n');
    const reader = createTranscriptReader();
    expect(collect(reader, path).got).toEqual([{ n: 1 }]);
    expect(collect(reader, path).outcome).toEqual({ records: 0, heldBack: 0, more: false });
    const other = `${path}.other`;
    writeFileSync(other, '{"n":9}\n'); // same size, another file
    rmSync(path);
    symlinkSync(other, path);
    expect(() => collect(reader, path)).toThrow(/ELOOP|symbolic link/i); // O_NOFOLLOW on the full path
    rmSync(path);
    expect(() => collect(reader, path)).toThrow(/ENOENT/);
  });

  it('keeps a truncated last line and reads it once it is complete', () => {
    const path = file('{"n":1}\n{"type":"assis');
    const reader = createTranscriptReader();
    const first = collect(reader, path);
    expect(first.got).toEqual([{ n: 1 }]);
    expect(first.outcome.heldBack).toBe(14);
    expect(reader.position(path)?.offset).toBe(8);
    appendFileSync(path, 'tant"}\n{"n":3}\n');
    expect(collect(reader, path).got).toEqual([{ type: 'assistant' }, { n: 3 }]);
  });

  it('takes a last line that already parses (its newline still to come) exactly once', () => {
    const path = file('{"n":1}');
    const reader = createTranscriptReader();
    expect(collect(reader, path).got).toEqual([{ n: 1 }]);
    appendFileSync(path, '\n{"n":2}\n');
    expect(collect(reader, path).got).toEqual([{ n: 2 }]);
  });

  it('counts malformed lines and skips lines over the cap without holding them', () => {
    const big = `{"x":"${'a'.repeat(5000)}"}`;
    const path = file(`not json\n[1,2]\n${big}\n{"n":1}\n`);
    const reader = createTranscriptReader({ maxLineBytes: 1000, chunkBytes: 512 });
    expect(collect(reader, path).got).toEqual([{ n: 1 }]);
    expect(reader.counters).toMatchObject({ malformed: 2, oversized: 1 });
  });

  it('skips an oversized line that is still being written, then goes on after its end', () => {
    const path = file(`{"x":"${'a'.repeat(3000)}`);
    const reader = createTranscriptReader({ maxLineBytes: 1000, chunkBytes: 256 });
    expect(collect(reader, path).got).toEqual([]);
    expect(reader.position(path)?.skipping).toBe(true);
    appendFileSync(path, `${'b'.repeat(2000)}"}\n{"n":2}\n`);
    expect(collect(reader, path).got).toEqual([{ n: 2 }]);
    expect(reader.counters.oversized).toBe(1);
  });

  it('never goes back: a file that shrank is read from its new end; a replaced file from 0', () => {
    const path = file('{"n":1}\n{"n":2}\n');
    const reader = createTranscriptReader();
    collect(reader, path);
    truncateSync(path, 8);
    appendFileSync(path, '{"n":9}\n');
    expect(collect(reader, path).got).toEqual([]); // size 16 = offset: nothing new, never re-read
    truncateSync(path, 4);
    expect(collect(reader, path).got).toEqual([]);
    expect(reader.counters.shrunk).toBe(1);
    expect(reader.position(path)?.offset).toBe(4);
    const other = `${path}.new`;
    writeFileSync(other, '{"n":7}\n');
    renameSync(other, path);
    expect(collect(reader, path).got).toEqual([{ n: 7 }]);
  });

  it('stops a read between lines once over its byte budget, and goes on next time', () => {
    const path = file(`${'{"n":1}\n'.repeat(10)}{"long":"${'x'.repeat(100)}"}\n{"n":2}\n`);
    const reader = createTranscriptReader({ maxBytesPerRead: 20, chunkBytes: 16 });
    const got: unknown[] = [];
    let calls = 0;
    while (calls++ < 50) if (!reader.read(path, (r) => got.push(r)).more) break;
    expect(got).toHaveLength(12);
    expect(calls).toBeGreaterThan(3);
  });

  it('resumes from restored positions without reading the start again', () => {
    const path = file('{"n":1}\n');
    const a = createTranscriptReader();
    collect(a, path);
    appendFileSync(path, '{"n":2}\n');
    const b = createTranscriptReader();
    b.restore(JSON.parse(JSON.stringify(a.positions())));
    expect(collect(b, path).got).toEqual([{ n: 2 }]);
  });

  it('decodes only the wanted types of type-first lines, and still hands the others over by type', () => {
    const lines = [
      '{"type":"queue-operation","operation":"enqueue","content":"x"}',
      '{"type":"api-request","id":"r1"}',
      '{"parentUuid":null,"type":"user","promptId":"p1"}',
      '{"type":"last-prompt","lastPrompt":"go"}',
      '{"type":"weird\\"name","x":1}', // an escaped quote: not read by prefix, decoded as usual
      '{"type":"atis-latch", not json at all',
      ' {"type":"tools-used","tools":[]}', // not at the very start: decoded
    ];
    const path = file(`${lines.join('\n')}\n`);
    const reader = createTranscriptReader({ decodeTypes: new Set(['api-request', 'user']), chunkBytes: 16 });
    expect(collect(reader, path).got).toEqual([
      { type: 'queue-operation' },
      { type: 'api-request', id: 'r1' },
      { parentUuid: null, type: 'user', promptId: 'p1' },
      { type: 'last-prompt' },
      { type: 'weird"name', x: 1 },
      { type: 'atis-latch' }, // counted by its type, not as malformed (documented in reader.ts)
      { type: 'tools-used', tools: [] },
    ]);
    expect(reader.counters.malformed).toBe(0);
    expect(reader.counters.lines).toBe(7);
  });

  it('keeps the files of recent paths open (bounded), and reopens a path that now names another file', () => {
    const base = openFds();
    const paths = [file('{"n":1}\n'), file('{"n":2}\n'), file('{"n":3}\n')];
    const reader = createTranscriptReader({ maxOpenFiles: 2 });
    for (const p of paths) collect(reader, p);
    expect(openFds() - base).toBe(2); // the oldest was closed
    appendFileSync(paths[2]!, '{"n":4}\n');
    expect(collect(reader, paths[2]!).got).toEqual([{ n: 4 }]); // through the kept descriptor
    // deleted and written again under the same name: a new file, read from its start
    unlinkSync(paths[2]!);
    writeFileSync(paths[2]!, '{"n":5}\n{"n":6}\n');
    expect(collect(reader, paths[2]!).got).toEqual([{ n: 5 }, { n: 6 }]);
    // swapped for a link: what the old descriptor still has is the checked file's own data; once it
    // has nothing new, the path is looked at and refused
    appendFileSync(paths[1]!, '{"n":7}\n');
    unlinkSync(paths[1]!);
    symlinkSync(paths[0]!, paths[1]!);
    expect(collect(reader, paths[1]!).got).toEqual([{ n: 7 }]);
    expect(() => collect(reader, paths[1]!)).toThrow(/ELOOP|symbolic link/i);
    expect(openFds() - base).toBe(1);
    reader.release(paths[2]!);
    expect(openFds() - base).toBe(0);
    appendFileSync(paths[2]!, '{"n":8}\n');
    expect(collect(reader, paths[2]!).got).toEqual([{ n: 8 }]); // the position survived the release
    reader.forget(paths[0]!);
    reader.close();
    expect(openFds() - base).toBe(0);
  });

  it('reads a kept file without a stat, and looks at its path again when it has nothing new or every recheckMs', () => {
    let t = 0;
    const path = file('{"n":1}\n');
    const reader = createTranscriptReader({ recheckMs: 1000, now: () => t });
    expect(collect(reader, path).got).toEqual([{ n: 1 }]);
    // renamed away and replaced while the old file still grows (a writer holding it open)
    const old = `${path}.old`;
    renameSync(path, old);
    writeFileSync(path, '{"n":10}\n');
    appendFileSync(old, '{"n":2}\n');
    t = 999;
    expect(collect(reader, path).got).toEqual([{ n: 2 }]); // through the descriptor, within recheckMs
    appendFileSync(old, '{"n":3}\n');
    t = 1000;
    expect(collect(reader, path).got).toEqual([{ n: 10 }]); // looked at again: another file, read from 0
    // a file truncated in place is found when the descriptor has nothing new at the offset
    truncateSync(path, 3);
    expect(collect(reader, path).got).toEqual([]);
    expect(reader.counters.shrunk).toBe(1);
    appendFileSync(path, '\n{"n":11}\n');
    expect(collect(reader, path).got).toEqual([{ n: 11 }]);
  });

  it('keeps nothing open after a read fails: a path that cannot be checked, a consumer that throws', () => {
    const base = openFds();
    const path = file('{"n":1}\n');
    const reader = createTranscriptReader();
    collect(reader, path);
    expect(openFds() - base).toBe(1);
    // its directory replaced by a file: the lstat fails with ENOTDIR, the kept descriptor is closed
    const dir = join(path, '..');
    renameSync(dir, `${dir}.moved`);
    writeFileSync(dir, 'not a directory');
    expect(() => collect(reader, path)).toThrow(/ENOTDIR/);
    expect(openFds() - base).toBe(0);
    rmSync(dir);
    renameSync(`${dir}.moved`, dir);
    // a consumer that throws on a kept file, then on a freshly opened one
    appendFileSync(path, '{"n":2}\n');
    expect(collect(reader, path).got).toEqual([{ n: 2 }]);
    expect(openFds() - base).toBe(1);
    appendFileSync(path, '{"n":3}\n');
    expect(() => reader.read(path, () => { throw new Error('consumer'); })).toThrow('consumer');
    expect(openFds() - base).toBe(0);
    reader.forget(path);
    expect(() => reader.read(path, () => { throw new Error('consumer'); })).toThrow('consumer');
    expect(openFds() - base).toBe(0);
  });

  it('delivers every record exactly once however the appends are cut (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 30 }), fc.integer({ min: 7, max: 64 }), (values, cuts, chunkBytes) => {
        const text = values.map((v) => `{"v":${v},"pad":"${'p'.repeat(v % 13)}"}\n`).join('');
        const path = file();
        const reader = createTranscriptReader({ chunkBytes });
        const got: unknown[] = [];
        let at = 0;
        for (const cut of [...cuts, text.length]) {
          const next = Math.min(text.length, at + cut);
          appendFileSync(path, text.slice(at, next));
          at = next;
          const before = reader.position(path)?.offset ?? 0;
          reader.read(path, (r) => got.push(r.v));
          expect(reader.position(path)!.offset).toBeGreaterThanOrEqual(before);
          if (at >= text.length) break;
        }
        reader.read(path, (r) => got.push(r.v));
        expect(got).toEqual(values);
      }),
      { numRuns: 60 },
    );
  });
});
