// Finding 8 (reliability review): bin/claude-otel-hook wrote straight into spool/new, so a write
// slower than the agent's 2 s grace was read half-written, counted malformed and moved to rejected/
// (where the rest of the write then landed). Now the hook writes into spool/tmp and renames the
// complete file into spool/new: the slow event is ingested, and nothing lands in rejected/.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';
import { cleanEnv, runHook, startAgentProcess, tempRoot, writeConfig } from './identity-support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('a slow writer on the bash hook stdin (finding 8)', () => {
  it('is ingested once complete, never read half-written into rejected/', async () => {
    const { root, cleanup } = tempRoot('cob-fault-slow-');
    cleanups.push(cleanup);
    const home = join(root, 'otel-home');
    mkdirSync(home, { mode: 0o700 });
    writeConfig(home, await freePort());
    const env = cleanEnv({ HOME: root, CLAUDE_OTEL_HOME: home });
    const agent = await startAgentProcess(home, env);
    cleanups.push(() => agent.stop());
    const token = readFileSync(join(home, 'token'), 'utf8').trim();
    const metrics = async () => (await fetch(`${agent.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();

    // The first half now; the rest after longer than the agent's grace for young spool files.
    const run = await runHook('bash', '', env, (child) => {
      child.stdin!.write('{"session_id":"x","hook_event_name":"UserPromptSubmit",');
      let sawHalf = false;
      const poll = setInterval(() => {
        sawHalf ||= readdirSync(join(home, 'spool', 'tmp')).length > 0;
      }, 50);
      setTimeout(() => {
        clearInterval(poll);
        expect(sawHalf).toBe(true); // the partial event sat in tmp/, out of the agent's sight
        child.stdin!.end('"prompt":"hi"}');
      }, 3000);
    });
    expect(run).toEqual({ code: 0, output: '' });
    const ingested = /claude_otel_events_total\{event="UserPromptSubmit",transport="spool"\} 1/;
    let text = '';
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && !ingested.test(text) && readdirSync(join(home, 'spool', 'rejected')).length === 0) {
      await new Promise((r) => setTimeout(r, 100));
      text = await metrics();
    }
    expect(readdirSync(join(home, 'spool', 'rejected'))).toEqual([]);
    expect(text).toMatch(ingested);
    expect(readdirSync(join(home, 'spool', 'new'))).toEqual([]);
    expect(readdirSync(join(home, 'spool', 'tmp'))).toEqual([]);
  });
});
