// Reliability findings 5 (the spool part) and 8: what lies in spool/new is untrusted. A symlink to
// a foreign event is not ingested; a FIFO does not hang the agent; a directory, a dangling link or a
// mode-000 file does not keep it from its idle exit; a slow writer through bin/claude-otel-hook
// (and a young partial file an older hook wrote straight into new/) is ingested whole, not rejected
// half-written; nothing is ever read from spool/tmp.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixture } from '../support/fixtures.js';
import { ROOT, removeHome, startAgentProcess, tempHome, waitUntil } from './agent-process.js';

const SID = '5f001000-1111-4222-8333-444444444444';
const FOREIGN = '5f00f0f0-1111-4222-8333-444444444444';
const body = (name: string, o: Record<string, unknown> = {}) => JSON.stringify(fixture(name, { session_id: SID, prompt_id: 'p1', ...o }));
const spoolName = (n: number) => `${(Date.now() - 60_000) * 1000 + n}-0-${n}.json`;

describe('findings 5 and 8: the spool', () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  function home() {
    const h = tempHome();
    mkdirSync(join(h, 'spool', 'new'), { recursive: true });
    mkdirSync(join(h, 'spool', 'tmp'), { recursive: true });
    mkdirSync(join(h, 'spool', 'rejected'), { recursive: true });
    cleanups.push(() => removeHome(h));
    return h;
  }
  async function start(h: string, env: Record<string, string> = {}) {
    const agent = await startAgentProcess({ home: h, env });
    cleanups.push(() => agent.stop('SIGKILL'));
    return agent;
  }
  const sessions = async (agent: Awaited<ReturnType<typeof start>>) => ((await agent.status()).sessions as { sessionId: string }[]).map((s) => s.sessionId);

  it('does not ingest a symlink to a foreign event file, and does not touch the target', async () => {
    const h = home();
    const foreign = join(tempHome('cob-foreign-'), 'event.json');
    cleanups.push(() => removeHome(join(foreign, '..')));
    writeFileSync(foreign, JSON.stringify(fixture('SessionStart', { session_id: FOREIGN })));
    symlinkSync(foreign, join(h, 'spool', 'new', spoolName(1)));
    writeFileSync(join(h, 'spool', 'new', spoolName(2)), body('SessionStart'));
    const agent = await start(h);
    expect(agent.alive()).toBe(true);
    expect(await sessions(agent)).toEqual([SID]);
    expect(await agent.counter('claude_otel_quarantined_total', 'reason="symlink"')).toBe(1);
    expect(readdirSync(join(h, 'spool', 'new'))).toEqual([]);
  });

  it('does not hang on a FIFO: /healthz and events keep being answered', async () => {
    const h = home();
    const agent = await start(h);
    execFileSync('mkfifo', [join(h, 'spool', 'new', spoolName(1))]);
    writeFileSync(join(h, 'spool', 'new', spoolName(2)), body('SessionStart'));
    await waitUntil(() => readdirSync(join(h, 'spool', 'new')).length === 0, 10_000, 'the spool to drain');
    expect(await agent.healthy(5000)).toBe(true);
    expect(await agent.post(body('UserPromptSubmit'))).toBe(200);
    expect(await sessions(agent)).toEqual([SID]);
    expect(await agent.counter('claude_otel_quarantined_total', 'reason="fifo"')).toBe(1);
  });

  it('a directory, a dangling link and a mode-000 file do not keep the agent from its idle exit', async () => {
    const h = home();
    mkdirSync(join(h, 'spool', 'new', spoolName(1)));
    symlinkSync(join(h, 'nowhere'), join(h, 'spool', 'new', spoolName(2)));
    const locked = join(h, 'spool', 'new', spoolName(3)); // one name: spoolName reads the clock
    writeFileSync(locked, '{"not":"an event"}');
    chmodSync(locked, 0o000);
    const agent = await start(h, { CLAUDE_OTEL_IDLE_EXIT_SECONDS: '1', CLAUDE_OTEL_REAPER_INTERVAL_SECONDS: '1' });
    const code = await Promise.race([agent.exited, new Promise((r) => setTimeout(() => r('still running'), 20_000))]);
    expect(code).toBe(0);
    expect(readdirSync(join(h, 'spool', 'new'))).toEqual([]);
    expect(readdirSync(join(h, 'spool', 'rejected'))).toHaveLength(3);
  });

  it('ingests a slow write through bin/claude-otel-hook whole, and never reads spool/tmp', async () => {
    const h = home();
    const agent = await start(h);
    writeFileSync(join(h, 'spool', 'tmp', spoolName(9)), body('SessionStart', { session_id: FOREIGN })); // a write in progress
    const head = body('UserPromptSubmit');
    const script = `printf '%s' '${head.slice(0, 40)}'; sleep 3; printf '%s' '${head.slice(40)}'`;
    const hook = spawn('bash', ['-c', `( ${script} ) | ${join(ROOT, 'bin', 'claude-otel-hook')}`], { env: { ...process.env, CLAUDE_OTEL_HOME: h }, stdio: 'ignore' });
    const done = new Promise((r) => hook.on('exit', r));
    expect(await agent.post(body('SessionStart'))).toBe(200);
    await done;
    await waitUntil(async () => (await agent.counter('claude_otel_events_total', 'event="UserPromptSubmit"')) === 1, 15_000, 'the slow event');
    // timed by transport: the posted SessionStart and the drained UserPromptSubmit
    expect([await agent.counter('claude_otel_handling_duration_count', 'transport="http"'), await agent.counter('claude_otel_handling_duration_count', 'transport="spool"')]).toEqual([1, 1]);
    expect(readdirSync(join(h, 'spool', 'rejected'))).toEqual([]);
    expect(await agent.counter('claude_otel_events_rejected_total')).toBe(0);
    expect(await sessions(agent)).toEqual([SID]); // the file in tmp/ was not ingested
    expect(readdirSync(join(h, 'spool', 'tmp'))).toHaveLength(1);
  });

  it('tolerates a young partial file in spool/new written by an older hook', async () => {
    const h = home();
    const agent = await start(h);
    const name = `${Date.now() * 1000}-0-7.json`;
    const full = body('UserPromptSubmit');
    writeFileSync(join(h, 'spool', 'new', name), full.slice(0, 30));
    expect(await agent.post(body('SessionStart'))).toBe(200); // drains the spool first: the partial file is left alone
    await new Promise((r) => setTimeout(r, 2500)); // longer than the old 2 s grace; many drain ticks see it half-written
    writeFileSync(join(h, 'spool', 'new', name), full);
    await waitUntil(async () => (await agent.counter('claude_otel_events_total', 'event="UserPromptSubmit"')) === 1, 10_000, 'the completed event');
    expect(readdirSync(join(h, 'spool', 'rejected'))).toEqual([]);
  });
});
