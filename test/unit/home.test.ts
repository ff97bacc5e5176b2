// src/shared/home.ts, src/agent/start-marker.ts, src/agent/agent-pid.ts and src/agent/port-owner.ts
// on real files: what a home must be to be used, the failed-start back-off, the pid claim, and the
// parsing of the kernel's socket tables (a fake /proc root with lines copied from a real one).
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HomeRefused, readPrivateFile, secureHome, writeFileAtomic } from '../../src/shared/home.js';
import { homeLayout, homePaths } from '../../src/agent/paths.js';
import { backoffSeconds, readStartFailure, recordStartFailure, startDecision, clearStartFailure } from '../../src/agent/start-marker.js';
import { AgentAlreadyRunning, claimAgentPid, runningAgentPid } from '../../src/agent/agent-pid.js';
import { holderOf, listenersOn } from '../../src/agent/port-owner.js';
import { allowedHost } from '../../src/agent/server.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'cob-home-unit-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('secureHome', () => {
  it('creates a missing home and its directories with mode 0700', () => {
    const paths = homePaths(join(root, 'h'));
    expect(secureHome(homeLayout(paths))).toEqual({ repaired: [] });
    for (const d of [paths.home, paths.spoolNew, paths.spoolTmp, paths.store]) expect(lstatSync(d).mode & 0o777).toBe(0o700);
  });

  it('tightens modes of what we own and reports each repair', () => {
    const paths = homePaths(join(root, 'h'));
    mkdirSync(paths.home, { mode: 0o777 });
    chmodSync(paths.home, 0o777);
    writeFileSync(paths.journal, '', { mode: 0o666 });
    chmodSync(paths.journal, 0o666);
    const logs: string[] = [];
    const { repaired } = secureHome(homeLayout(paths), { log: (m) => logs.push(m) });
    expect(repaired).toHaveLength(2);
    expect(lstatSync(paths.home).mode & 0o777).toBe(0o700);
    expect(lstatSync(paths.journal).mode & 0o777).toBe(0o600);
    expect(logs.join('\n')).toMatch(/tightened .*journal\.jsonl from mode 666 to 600/);
  });

  it.each([
    ['the home is a symbolic link', (p: ReturnType<typeof homePaths>) => { mkdirSync(join(root, 'real')); symlinkSync(join(root, 'real'), p.home); }, /h is a symbolic link/],
    ['an entry is a symbolic link', (p: ReturnType<typeof homePaths>) => { mkdirSync(p.home); symlinkSync('/etc/passwd', p.agentInfo); }, /agent\.json is a symbolic link/],
    ['a directory is a file', (p: ReturnType<typeof homePaths>) => { mkdirSync(p.home); writeFileSync(p.store, ''); }, /store is a regular file, expected a directory/],
    ['the parent is world-writable without the sticky bit', (p: ReturnType<typeof homePaths>) => { chmodSync(root, 0o777); mkdirSync(p.home); }, /writable by everyone without the sticky bit/],
    ['the home belongs to another uid', (p: ReturnType<typeof homePaths>) => { mkdirSync(p.home); }, /owned by uid \d+, not by us \(uid 4242\)/, 4242],
  ])('refuses a home where %s', (_label, plant, message, uid?: number) => {
    const paths = homePaths(join(root, 'h'));
    plant(paths);
    const attempt = () => secureHome(homeLayout(paths), uid !== undefined ? { uid } : {});
    expect(attempt).toThrow(HomeRefused);
    expect(attempt).toThrow(message);
  });
});

describe('writeFileAtomic and readPrivateFile', () => {
  it('never writes through a link planted at the target or at a predictable temporary name', () => {
    const victim = join(root, 'victim');
    writeFileSync(victim, 'VICTIM', { mode: 0o600 });
    const target = join(root, 'agent.json');
    symlinkSync(victim, `${target}.tmp`);
    symlinkSync(victim, target);
    writeFileAtomic(target, 'ours');
    expect(readFileSync(victim, 'utf8')).toBe('VICTIM');
    expect(lstatSync(target).isSymbolicLink()).toBe(false);
    expect(readFileSync(target, 'utf8')).toBe('ours');
    expect(readdirSync(root).filter((f) => f.endsWith('.tmp') && f !== 'agent.json.tmp')).toEqual([]);
  });

  it('reads a regular file of ours, and nothing through a link or from a FIFO', () => {
    writeFileSync(join(root, 'f'), 'x', { mode: 0o600 });
    symlinkSync(join(root, 'f'), join(root, 'link'));
    expect(readPrivateFile(join(root, 'f'))?.text).toBe('x');
    expect(readPrivateFile(join(root, 'link'))).toBeUndefined();
    expect(readPrivateFile(join(root, 'f'), 1 << 20, 4242)).toBeUndefined(); // not owned by that uid
  });
});

describe('the failed-start marker', () => {
  it('backs off 15 s doubling to 15 min, and lets one attempt through per interval', () => {
    expect([1, 2, 3, 4, 7, 8, 50].map(backoffSeconds)).toEqual([15, 30, 60, 120, 900, 900, 900]);
    const paths = homePaths(root);
    const t0 = 1_800_000_000_000;
    expect(startDecision(paths, t0)).toBe('wait');
    recordStartFailure(paths, { code: 'EADDRINUSE', reason: 'port held by\nuid 65534', holderUid: 65534 }, t0);
    expect(readStartFailure(paths)).toEqual({ retryAtSec: t0 / 1000 + 15, failures: 1, failedAtSec: t0 / 1000, code: 'EADDRINUSE', holderUid: 65534, reason: 'port held by uid 65534' });
    expect(startDecision(paths, t0 + 14_000)).toBe('skip');
    expect(startDecision(paths, t0 + 15_000)).toBe('start');
    expect(startDecision(paths, t0 + 16_000)).toBe('skip'); // another hook already started this interval's attempt
    recordStartFailure(paths, { code: 'EADDRINUSE', reason: 'again' }, t0 + 17_000);
    expect(readStartFailure(paths)).toMatchObject({ failures: 2, retryAtSec: (t0 + 17_000) / 1000 + 30 });
    clearStartFailure(paths);
    expect(startDecision(paths, t0 + 100_000)).toBe('wait');
  });
});

describe('the pid claim', () => {
  it('replaces a claim whose pid is alive but another process (another start time), and refuses a live one', async () => {
    const paths = homePaths(root);
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      writeFileSync(paths.lockFile, `${other.pid} 1\n`, { mode: 0o600 });
      writeFileSync(paths.pidFile, `${other.pid}\n`, { mode: 0o600 });
      expect(runningAgentPid(paths)).toBeUndefined();
      const claim = claimAgentPid(paths);
      expect(runningAgentPid(paths)).toBe(process.pid);
      expect(() => claimAgentPid(paths, other.pid!)).toThrow(AgentAlreadyRunning);
      claim.release();
      expect(readdirSync(root)).toEqual([]);
    } finally {
      other.kill('SIGKILL');
    }
  });
});

describe('port-owner', () => {
  it('finds the listening socket of a port with its uid in /proc/net/tcp and tcp6', () => {
    mkdirSync(join(root, 'net'));
    writeFileSync(join(root, 'net', 'tcp'), [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:10DF 00000000:0000 0A 00000000:00000000 00:00000000 00000000 65534        0 31102 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:10DF 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 31103 1 0000000000000000 100 0 0 10 0',
    ].join('\n'));
    writeFileSync(join(root, 'net', 'tcp6'), [
      '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000000000000000000000000000:10E0 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 3049 1 0000000000000000 100 0 0 10 0',
    ].join('\n'));
    expect(listenersOn(4319, root)).toEqual([{ address: '127.0.0.1', port: 4319, uid: 65534, inode: 31102 }]);
    expect(holderOf('127.0.0.1', 4320, root)).toMatchObject({ address: '::', uid: 1000 });
    expect(holderOf('127.0.0.1', 4321, root)).toBeUndefined();
  });
});

describe('allowedHost', () => {
  it('accepts loopback names with our port or none, and nothing else', () => {
    for (const h of ['127.0.0.1:4319', 'localhost:4319', '[::1]:4319', 'localhost', 'LOCALHOST:4319']) expect(allowedHost(h, 4319), h).toBe(true);
    for (const h of [undefined, '', 'evil.example', 'evil.example:4319', '127.0.0.1:80', '127.0.0.1.nip.io:4319', '[::1]x', '127.0.0.2:4319', 'localhost:4319@evil']) expect(allowedHost(h, 4319), String(h)).toBe(false);
    expect(allowedHost('127.0.0.2:4319', 4319, '127.0.0.2')).toBe(true);
  });
});
