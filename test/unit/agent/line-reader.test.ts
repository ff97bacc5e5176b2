import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readLines } from '../../../src/agent/line-reader.js';

describe('readLines', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const file = (text: string) => {
    dir = mkdtempSync(join(tmpdir(), 'cob-lines-'));
    const f = join(dir, 'j.jsonl');
    writeFileSync(f, text);
    return f;
  };

  it('passes every line, including ones that cross the 1 MiB read chunk, and keeps a torn tail back', () => {
    const long = `{"name":"PostToolUse","pad":"${'é'.repeat(700_000)}"}`; // 1.4 MB in UTF-8: spans chunks
    const lines = ['{"name":"Stop"}', long, '{"name":"PostToolUseFailure","x":1}', '{"name":"PreToolUse"}'];
    const f = file(`${lines.join('\n')}\n{"torn`);
    const seen: string[] = [];
    const r = readLines(f, (l) => seen.push(l), 16 * 1024 * 1024);
    expect(seen).toEqual(lines);
    expect(r.lines).toBe(4);
    expect(r.tail.toString()).toBe('{"torn');
  });

  it('with `containing`, passes only the lines that hold it (inside a chunk or across two) and counts them all', () => {
    const long = `{"name":"PreToolUse","pad":"${'x'.repeat(1_500_000)}"}`; // crosses a chunk, does not match
    const longMatch = `{"name":"PostToolUse","pad":"${'y'.repeat(1_500_000)}"}`; // crosses a chunk, matches
    const lines = ['{"name":"Stop"}', '{"name":"PostToolUse","a":1}', long, longMatch, '{"name":"PostToolUseFailure"}', '{"name":"Post"}'];
    const f = file(`${lines.join('\n')}\n`);
    const seen: string[] = [];
    const r = readLines(f, (l) => seen.push(l), 16 * 1024 * 1024, '"name":"PostToolUse');
    // A line that spans two chunks is decoded and passed whatever it holds (the caller still checks).
    expect(seen.filter((l) => l.includes('"name":"PostToolUse'))).toEqual([lines[1], longMatch, lines[4]]);
    expect(seen).not.toContain(lines[0]);
    expect(seen).not.toContain(lines[5]);
    expect(r.lines).toBe(6);
  });
});
