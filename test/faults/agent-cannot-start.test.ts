// Finding 1, consequence (reliability review): while the agent cannot start, every command hook
// waited ~3.5 s for it and started yet another doomed agent. Now the failed start leaves a marker;
// while it is fresh the hooks spool and start nothing; once the back-off is over exactly one hook
// starts one attempt and does not wait for it. Starts are counted by a CLAUDE_OTEL_NODE wrapper
// that records each start and holds the attempt until the test releases it: a hook that returns
// while its attempt is still held did not wait for it.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/agent-harness.js';
import { freePort } from '../support/ports.js';
import { readStartFailure } from '../../src/agent/start-marker.js';
import { cleanEnv, runHook, tempRoot, writeConfig } from './identity-support.js';

const SID = 'f1f1f1f1-0000-4000-8000-000000000001';
const event = (n: number) => JSON.stringify({ session_id: SID, hook_event_name: 'UserPromptSubmit', prompt: `prompt ${n}`, cwd: '/tmp', transcript_path: '/dev/null' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('the command hooks while the agent cannot start (finding 1, consequence)', () => {
  it('back off: no start while the marker is fresh, then one attempt per interval that no hook waits for', async () => {
    const { root, cleanup } = tempRoot('cob-fault-nostart-');
    cleanups.push(cleanup);
    const home = join(root, 'otel-home');
    mkdirSync(home, { mode: 0o700 });
    const port = await freePort();
    writeConfig(home, port);
    // Our own process holds the port: every start fails with EADDRINUSE.
    const holder: Server = await new Promise((r) => {
      const s = createServer().listen(port, '127.0.0.1', () => r(s));
    });
    cleanups.push(() => new Promise<void>((r) => holder.close(() => r())));
    const starts = join(root, 'starts');
    const release = join(root, 'release');
    const wrapper = join(root, 'node-wrapper.sh');
    writeFileSync(wrapper, `#!/bin/sh\necho "$$" >>'${starts}'\nwhile [ ! -e '${release}' ]; do sleep 0.05; done\nexec '${process.execPath}' "$@"\n`);
    chmodSync(wrapper, 0o755);
    const env = cleanEnv({ HOME: root, CLAUDE_OTEL_HOME: home, CLAUDE_OTEL_NODE: wrapper });
    const count = () => (existsSync(starts) ? readFileSync(starts, 'utf8').trim().split('\n').length : 0);
    const marker = join(home, 'agent.start-failed');
    let n = 0;

    // 1. No marker yet: the hook starts the agent; the start fails and leaves the marker.
    writeFileSync(release, '');
    expect(await runHook('bash', event(n++), env)).toEqual({ code: 0, output: '' });
    await waitFor(() => existsSync(marker), 20_000, 'the failed-start marker');
    expect(readStartFailure({ startFailed: marker, startAttempt: join(home, 'agent.start-attempt') })).toMatchObject({ failures: 1, code: 'EADDRINUSE' });
    expect(count()).toBe(1);

    // 2. Marker fresh: hooks of both kinds spool and start nothing.
    rmSync(release);
    for (const kind of ['bash', 'node', 'bash', 'node', 'bash', 'node'] as const) {
      expect(await runHook(kind, event(n++), env)).toEqual({ code: 0, output: '' });
    }

    // 3. The back-off is over: the next hook starts one attempt and returns while it is still held.
    const [head, ...rest] = readFileSync(marker, 'utf8').split('\n');
    const fields = head!.split(' ');
    fields[0] = String(Math.floor(Date.now() / 1000) - 1);
    writeFileSync(marker, [fields.join(' '), ...rest].join('\n'));
    expect(await runHook('bash', event(n++), env)).toEqual({ code: 0, output: '' });
    await waitFor(() => count() === 2, 10_000, 'the second start attempt');
    expect(existsSync(release)).toBe(false); // the attempt is still held: the hook did not wait for it
    expect(readStartFailure({ startFailed: marker, startAttempt: join(home, 'agent.start-attempt') })!.failures).toBe(1);

    // 4. Within the same interval, no other hook starts one.
    for (const kind of ['node', 'bash', 'node', 'bash'] as const) {
      expect(await runHook(kind, event(n++), env)).toEqual({ code: 0, output: '' });
    }

    // 5. Released, the attempt fails too: the marker counts two failures and the back-off grows.
    writeFileSync(release, '');
    await waitFor(() => readStartFailure({ startFailed: marker, startAttempt: join(home, 'agent.start-attempt') })?.failures === 2, 20_000, 'the second failure');
    const second = readStartFailure({ startFailed: marker, startAttempt: join(home, 'agent.start-attempt') })!;
    expect(second.retryAtSec - second.failedAtSec).toBe(30);
    expect(count()).toBe(2);

    // Nothing was lost: every event is spooled or journaled (the first attempts drained the spool).
    const journal = join(home, 'journal.jsonl');
    const journaled = existsSync(journal) ? readFileSync(journal, 'utf8').split('\n').filter((l) => l.includes(SID)).length : 0;
    expect(readdirSync(join(home, 'spool', 'new')).length + journaled).toBe(n);
  });
});
