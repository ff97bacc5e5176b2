// Finding 3, half-started agent (reliability review): on a full disk the agent listened first and
// then failed writing agent.pid, leaving a process that answered on the port with no pid file (so
// hooks kept starting more agents) until its first event crashed it. Now the home is claimed
// (agent.lock, agent.pid) before the agent listens and a start that fails after listening closes
// the server: a failed start leaves no listener and no claim behind, and the next start works.
// The disk is a small tmpfs, filled up (needs root, as the review's own disk-full test did).
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';
import { cleanEnv, spawnAgent, startAgentProcess, tempRoot } from './identity-support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const canMount = process.getuid?.() === 0 && spawnSync('mount', ['--version']).status === 0;

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function fill(dir: string): string {
  const file = join(dir, 'filler');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return file;
}

describe.skipIf(!canMount)('an agent start that fails on a full disk (finding 3, half-started)', () => {
  it('leaves no listener and no claim behind, and the next start works once space returns', async () => {
    const { root, cleanup } = tempRoot('cob-fault-half-');
    cleanups.push(cleanup);
    const mnt = join(root, 'disk');
    mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k,mode=0700', 'tmpfs', mnt]);
    cleanups.push(() => {
      execFileSync('umount', ['-l', mnt]);
    });
    const home = join(mnt, 'otel-home');
    mkdirSync(home, { mode: 0o700 });
    const port = await freePort();
    const env = cleanEnv({ HOME: root, CLAUDE_OTEL_HOME: home, CLAUDE_OTEL_PROFILE: 'testing', CLAUDE_OTEL_PORT: String(port) });
    // A previous run left its token and directories; then the disk filled up.
    const first = await startAgentProcess(home, env);
    await first.stop();
    for (const f of readdirSync(home)) if (!['token', 'spool', 'store'].includes(f)) rmSync(join(home, f), { recursive: true, force: true });
    const filler = fill(mnt);

    const agent = spawnAgent(env);
    // Either it exits, or (the fault) it answers on the port.
    let listening = false;
    const deadline = Date.now() + 20_000;
    while (agent.child.exitCode === null && !listening && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      listening = await answers(port);
    }
    if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
    expect(listening).toBe(false);
    expect(await agent.exited).not.toBe(0);
    expect(agent.stderr()).toMatch(/ENOSPC/);
    expect(existsSync(join(home, 'agent.lock'))).toBe(false);
    expect(existsSync(join(home, 'agent.json'))).toBe(false);

    rmSync(filler);
    const again = await startAgentProcess(home, env);
    cleanups.push(() => again.stop());
    expect(await answers(port)).toBe(true);
    expect(existsSync(join(home, 'agent.start-failed'))).toBe(false);
  });
});
