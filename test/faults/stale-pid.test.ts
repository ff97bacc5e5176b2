// Finding 9 (reliability review): after a kill -9, agent.pid named a pid that an unrelated program
// reused; both the bash hook and `claude-otel agent` asked only whether that pid existed, so the
// agent never started again ("agent already running") while the spool grew. Now a home is claimed
// with the agent's pid and start time (agent.lock); a pid with another start time, or a bare
// agent.pid whose process does not run `cli.js agent`, does not block the start.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/agent-harness.js';
import { freePort } from '../support/ports.js';
import { cleanEnv, runHook, startAgentProcess, tempRoot, writeConfig } from './identity-support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function unrelatedProcess(): ChildProcess {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' });
  cleanups.push(() => {
    child.kill('SIGKILL');
  });
  return child;
}

async function setup() {
  const { root, cleanup } = tempRoot('cob-fault-pid-');
  cleanups.push(cleanup);
  const home = join(root, 'otel-home');
  mkdirSync(home, { mode: 0o700 });
  writeConfig(home, await freePort());
  return { home, env: cleanEnv({ HOME: root, CLAUDE_OTEL_HOME: home }) };
}

describe('a stale agent.pid whose pid now belongs to another program (finding 9)', () => {
  it('does not keep `claude-otel agent` from starting (bare agent.pid, as an older agent left it)', async () => {
    const { home, env } = await setup();
    const other = unrelatedProcess();
    writeFileSync(join(home, 'agent.pid'), `${other.pid}\n`, { mode: 0o600 });
    const agent = await startAgentProcess(home, env);
    cleanups.push(() => agent.stop());
    expect(Number(readFileSync(join(home, 'agent.pid'), 'utf8'))).toBe(agent.child.pid);
    expect(other.exitCode).toBe(null); // the unrelated program was left alone
  });

  it('does not keep the bash hook from starting the agent (agent.lock with another start time)', async () => {
    const { home, env } = await setup();
    const other = unrelatedProcess();
    writeFileSync(join(home, 'agent.pid'), `${other.pid}\n`, { mode: 0o600 });
    writeFileSync(join(home, 'agent.lock'), `${other.pid} 1\n`, { mode: 0o600 });
    const run = await runHook('bash', JSON.stringify({ session_id: 'f9', hook_event_name: 'SessionStart', source: 'startup' }), env);
    expect(run).toEqual({ code: 0, output: '' });
    const info = await waitFor(() => {
      try {
        return JSON.parse(readFileSync(join(home, 'agent.json'), 'utf8')) as { pid: number };
      } catch {
        return undefined;
      }
    }, 20_000, 'the agent started by the hook');
    cleanups.push(async () => {
      try {
        process.kill(info.pid, 'SIGTERM');
        await waitFor(() => !existsSync(`/proc/${info.pid}`), 15_000, 'the agent to stop');
      } catch {
        /* gone */
      }
    });
    expect(info.pid).not.toBe(other.pid);
    expect(readFileSync(join(home, 'agent.lock'), 'utf8')).toMatch(new RegExp(`^${info.pid} \\d+\\n$`));
  });

  it('still refuses a second agent while the first one runs', async () => {
    const { home, env } = await setup();
    const first = await startAgentProcess(home, env);
    cleanups.push(() => first.stop());
    const second = spawn(process.execPath, [join(import.meta.dirname, '..', '..', 'dist', 'cli.js'), 'agent'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    second.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    expect(await new Promise((r) => second.once('exit', r))).toBe(0);
    expect(stderr).toMatch(new RegExp(`agent already running \\(pid ${first.child.pid}\\)`));
  });
});
