// Finding 2 (reliability review): another local user binds the agent's port while our agent is down
// (here: killed with -9, so agent.json still names the port). Before the fix the node command hook
// posted the token and the raw, unredacted payload to that listener, and the agent exited 0 with
// "port in use". Now: the hooks send nothing to a listener that cannot prove it holds the token
// (the events are spooled), the agent fails loudly (exit 1, log line, failed-start marker with the
// holder's uid), doctor fails naming the uid, and install falls back to the durable transport.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/agent-harness.js';
import { freePort } from '../support/ports.js';
import { readStartFailure } from '../../src/agent/start-marker.js';
import { CLI, OTHER_UID, SECRET, cleanEnv, postToolUse, runHook, spawnAgent, startAgentProcess, startSquatter, tempRoot, writeConfig, type Squatter } from './identity-support.js';

const SID = 'f2f2f2f2-0000-4000-8000-000000000002';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('a port squatter owned by another uid (finding 2)', () => {
  it('gets no token and no payload through the command hooks; agent, doctor and install say so', async () => {
    const { root, cleanup } = tempRoot('cob-fault-squat-');
    cleanups.push(cleanup);
    const home = join(root, 'otel-home');
    const userHome = join(root, 'home');
    mkdirSync(home, { mode: 0o700 });
    mkdirSync(userHome, { mode: 0o700 });
    const port = await freePort();
    writeConfig(home, port);
    const env = cleanEnv({ HOME: userHome, CLAUDE_OTEL_HOME: home });

    // The victim's agent ran and was killed: agent.json and the token stay behind.
    const first = await startAgentProcess(home, env);
    first.child.kill('SIGKILL');
    await first.exited;
    const token = readFileSync(join(home, 'token'), 'utf8').trim();
    expect(existsSync(join(home, 'agent.json'))).toBe(true);

    const squatter: Squatter = await startSquatter(port);
    cleanups.push(() => squatter.stop());

    for (const kind of ['node', 'bash'] as const) {
      const run = await runHook(kind, postToolUse(SID), env);
      expect(run).toEqual({ code: 0, output: '' });
    }
    // The hooks started an agent; it could not listen and left the marker.
    const paths = { startFailed: join(home, 'agent.start-failed'), startAttempt: join(home, 'agent.start-attempt'), spoolNew: join(home, 'spool', 'new'), journal: join(home, 'journal.jsonl'), log: join(home, 'agent.log') };
    await waitFor(() => existsSync(paths.startFailed) || squatter.received().includes('POST'), 20_000, 'the failed-start marker');
    expect(squatter.received()).not.toContain(token);
    expect(squatter.received()).not.toContain(SECRET);
    expect(squatter.received()).not.toMatch(/POST \/v1\/hooks/);
    expect(existsSync(paths.startFailed)).toBe(true);
    // Nothing was lost: both events wait in the spool, or were journaled by the agent before it failed to listen.
    const journaled = existsSync(paths.journal) ? readFileSync(paths.journal, 'utf8').split('\n').filter((l) => l.includes(SID)).length : 0;
    expect(readdirSync(paths.spoolNew).length + journaled).toBe(2);

    // Started by hand, the agent does not exit 0 silently.
    const agent = spawnAgent(env);
    expect(await agent.exited).not.toBe(0);
    expect(agent.stderr()).toMatch(new RegExp(`port 127\\.0\\.0\\.1:${port} is held by uid ${OTHER_UID}.*ANOTHER USER`));
    const marker = readStartFailure(paths);
    expect(marker).toMatchObject({ code: 'EADDRINUSE', holderUid: OTHER_UID });
    expect(marker!.failures).toBeGreaterThanOrEqual(2);
    expect(readFileSync(paths.log, 'utf8')).toMatch(new RegExp(`held by uid ${OTHER_UID}`));

    // doctor fails, naming the holder's uid, and suggests the durable transport.
    const doctor = spawnSync(process.execPath, [CLI, 'doctor', '--json', '--project-dir', root], { env: { ...env, CLAUDE_BIN: '/bin/false' }, encoding: 'utf8', timeout: 60_000 });
    const agentLine = (JSON.parse(doctor.stdout) as { name: string; verdict: string; detail: string; fix?: string }[]).find((r) => r.name === 'agent')!;
    expect(doctor.status).toBe(1);
    expect(agentLine.verdict).toBe('fail');
    expect(agentLine.detail).toMatch(new RegExp(`held by another user \\(uid ${OTHER_UID}`));
    expect(agentLine.fix).toMatch(/--transport durable/);
    expect(squatter.received()).not.toContain(token); // doctor did not send it either

    // install refuses the http transport while another uid holds the port.
    const install = spawnSync(process.execPath, [CLI, 'install', '--scope', 'user'], { env, encoding: 'utf8', timeout: 60_000 });
    expect(install.status).toBe(0);
    expect(install.stdout).toMatch(new RegExp(`held by another user \\(uid ${OTHER_UID}.*Installing the durable transport instead`));
    const settings = readFileSync(join(userHome, '.claude', 'settings.json'), 'utf8');
    expect(settings).not.toMatch(/"type": "http"/);
    expect(settings).not.toContain(token);
    expect(settings).toMatch(/claude-otel-hook/);
  });
});
