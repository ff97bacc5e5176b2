// Finding 5 (reliability review): a home pre-created by another user (uid 65534, mode 0777, in a
// sticky world-writable directory, as a /tmp path would be) with planted links: `token` -> the
// attacker's 0666 file, `agent.json.tmp` -> the victim's 0600 file, `store` -> the attacker's dir.
// Before the fix the agent overwrote the victim's file, wrote the token into the attacker's file and
// used the attacker's store. Now the agent and both hooks refuse the home with a clear message and
// write nothing into it; a home of ours with loose modes is tightened (and says so).
import { chmodSync, lchownSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';
import { OTHER_UID, cleanEnv, runHook, spawnAgent, startAgentProcess, tempRoot } from './identity-support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sessionStart = JSON.stringify({ session_id: 'f5f5f5f5-0000-4000-8000-000000000005', hook_event_name: 'SessionStart', source: 'startup', cwd: '/tmp', transcript_path: '/dev/null' });

function plantedHome(root: string, owner: number) {
  chmodSync(root, 0o1777); // like /tmp
  const victimFile = join(root, 'victim-private');
  writeFileSync(victimFile, 'VICTIM DATA\n', { mode: 0o600 });
  const attackerToken = join(root, 'attacker-token');
  writeFileSync(attackerToken, '', { mode: 0o666 });
  chownSync(attackerToken, OTHER_UID, OTHER_UID);
  chmodSync(attackerToken, 0o666);
  const attackerStore = join(root, 'attacker-store');
  mkdirSync(attackerStore, { mode: 0o777 });
  chownSync(attackerStore, OTHER_UID, OTHER_UID);
  const home = join(root, 'shared-home');
  mkdirSync(home);
  chmodSync(home, 0o777);
  chownSync(home, owner, owner);
  for (const [name, target] of [['token', attackerToken], ['agent.json.tmp', victimFile], ['store', attackerStore]] as const) {
    symlinkSync(target, join(home, name));
    lchownSync(join(home, name), OTHER_UID, OTHER_UID);
  }
  return { home, victimFile, attackerToken, attackerStore };
}

describe('a home that is not ours (finding 5)', () => {
  it.each([
    ['owned by another uid', OTHER_UID, new RegExp(`shared-home is owned by uid ${OTHER_UID}`)],
    ['ours but world-writable, with links planted by another uid', process.getuid!(), /token is a symbolic link/],
  ])('%s: the agent refuses it, and nothing of ours goes through its links', async (_label, owner, why) => {
    const { root, cleanup } = tempRoot('cob-fault-home-');
    cleanups.push(cleanup);
    const planted = plantedHome(root, owner);
    const env = cleanEnv({ HOME: root, CLAUDE_OTEL_HOME: planted.home, CLAUDE_OTEL_PROFILE: 'testing', CLAUDE_OTEL_PORT: String(await freePort()) });
    const before = readdirSync(planted.home).sort();

    const agent = spawnAgent(env);
    expect(await agent.exited).not.toBe(0);
    expect(agent.stderr()).toMatch(/refusing to use .*shared-home/);
    expect(agent.stderr()).toMatch(why);

    for (const kind of ['bash', 'node'] as const) expect(await runHook(kind, sessionStart, env)).toEqual({ code: 0, output: '' });

    expect(readFileSync(planted.victimFile, 'utf8')).toBe('VICTIM DATA\n');
    expect(readFileSync(planted.attackerToken, 'utf8')).toBe('');
    expect(readdirSync(planted.attackerStore)).toEqual([]);
    for (const name of ['token', 'agent.json.tmp', 'store']) expect(lstatSync(join(planted.home, name)).isSymbolicLink()).toBe(true);
    expect(existsSync(join(planted.home, 'agent.json'))).toBe(false);
    if (owner === OTHER_UID) expect(readdirSync(planted.home).sort()).toEqual(before); // another user's home: nothing at all
    else expect(readFileSync(join(planted.home, 'agent.start-failed'), 'utf8')).toMatch(/HOME_REFUSED/); // ours: the hooks back off
  });

  it('tightens a home of ours with loose modes, and says so', async () => {
    const { root, cleanup } = tempRoot('cob-fault-home-');
    cleanups.push(cleanup);
    const home = join(root, 'loose-home');
    mkdirSync(home);
    chmodSync(home, 0o755);
    writeFileSync(join(home, 'token'), `${'ab'.repeat(32)}\n`);
    chmodSync(join(home, 'token'), 0o644);
    const env = cleanEnv({ HOME: root, CLAUDE_OTEL_HOME: home, CLAUDE_OTEL_PROFILE: 'testing', CLAUDE_OTEL_PORT: String(await freePort()) });
    const agent = await startAgentProcess(home, env);
    cleanups.push(() => agent.stop());
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(lstatSync(join(home, 'token')).mode & 0o777).toBe(0o600);
    expect(agent.stderr()).toMatch(/home: tightened .*loose-home from mode 755 to 700/);
    expect(existsSync(join(home, 'agent.json'))).toBe(true);
  });
});
