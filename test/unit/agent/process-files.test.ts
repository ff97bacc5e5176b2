import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { homePaths } from '../../../src/agent/paths.js';
import { AgentAlreadyRunning, createProcessFiles, writeAtomic } from '../../../src/agent/process-files.js';

describe('process files', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('claims agent.pid, refuses a live holder, and releases only its own files', () => {
    dir = mkdtempSync(join(tmpdir(), 'cob-pf-'));
    const paths = homePaths(dir);
    createProcessFiles(paths).claim(); // a live agent (this process) holds the home: agent.lock = pid + start time
    expect(() => createProcessFiles(paths, process.pid + 1_000_000).claim()).toThrow(AgentAlreadyRunning);
    rmSync(paths.lockFile);
    writeFileSync(paths.pidFile, `${process.pid}\n`); // a live pid that is not an agent (finding 9): no block
    const other = createProcessFiles(paths, 999_999_997);
    other.claim();
    other.release();
    const mine = createProcessFiles(paths, 999_999_999);
    writeFileSync(paths.pidFile, '999999998\n'); // dead
    mine.claim();
    mine.publish({ url: 'http://127.0.0.1:1', port: 1, version: 't' });
    expect(readFileSync(paths.pidFile, 'utf8').trim()).toBe('999999999');
    mine.release();
    expect(existsSync(paths.pidFile) || existsSync(paths.agentInfo)).toBe(false);
  });

  it('reports and clears the clean-stop marker', () => {
    dir = mkdtempSync(join(tmpdir(), 'cob-pf-'));
    const files = createProcessFiles(homePaths(dir));
    expect(files.takeCleanStop()).toBe(false);
    files.markCleanStop();
    expect(files.takeCleanStop()).toBe(true);
    expect(files.takeCleanStop()).toBe(false);
  });

  it('writes through a fresh temporary: a planted .tmp symlink is not followed', () => {
    dir = mkdtempSync(join(tmpdir(), 'cob-pf-'));
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, join(dir, 'agent.json.tmp'));
    writeAtomic(join(dir, 'agent.json'), '{"pid":1}');
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readFileSync(join(dir, 'agent.json'), 'utf8')).toBe('{"pid":1}');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp') && f !== 'agent.json.tmp')).toEqual([]);
  });
});
