// Property test of the two command hooks (bin/claude-otel-hook and `node dist/cli.js hook`), real
// processes against a real agent process: whatever arrives on stdin (empty, huge, deeply nested,
// invalid UTF-8, random bytes, real Claude Code payloads mutated or cut short), each hook exits 0
// and prints nothing, and every event it handed over is either accepted or counted as rejected by
// the agent (none vanishes), whatever TRACEPARENT Claude Code put in the environment. The run count is kept small: each case starts two processes.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/agent-harness.js';
import { recordedPayloads } from '../support/fixtures.js';
import { freePort } from '../support/ports.js';
import { cleanEnv, runHook, startAgentProcess, tempRoot, writeConfig } from '../faults/identity-support.js';

const fixtures = recordedPayloads().map((p) => readFileSync(p.path));

const mutatedFixture = fc.record({
  base: fc.constantFrom(...fixtures),
  op: fc.constantFrom('truncate', 'flip', 'insert', 'retype', 'none'),
  at: fc.nat(),
  byte: fc.integer({ min: 0, max: 255 }),
  junk: fc.string({ maxLength: 40 }),
}).map(({ base, op, at, byte, junk }) => {
  const i = base.length ? at % base.length : 0;
  switch (op) {
    case 'truncate':
      return base.subarray(0, i);
    case 'flip': {
      const copy = Buffer.from(base);
      copy[i] = byte;
      return copy;
    }
    case 'insert':
      return Buffer.concat([base.subarray(0, i), Buffer.from(junk), base.subarray(i)]);
    case 'retype': {
      const obj = JSON.parse(base.toString('utf8')) as Record<string, unknown>;
      const keys = Object.keys(obj);
      obj[keys[at % keys.length]!] = [junk, byte, null, { junk }][at % 4];
      return Buffer.from(JSON.stringify(obj));
    }
    default:
      return base;
  }
});

const input: fc.Arbitrary<Buffer> = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a)),
  fc.integer({ min: 10, max: 3000 }).map((n) => Buffer.from(`{"session_id":"deep","hook_event_name":"Notification","x":${'['.repeat(n)}${']'.repeat(n)}}`)),
  fc.integer({ min: 256 * 1024, max: 2 * 1024 * 1024 }).map((n) => Buffer.from(JSON.stringify({ session_id: 'huge', hook_event_name: 'Notification', message: 'm'.repeat(n) }))),
  fc.uint8Array({ minLength: 1, maxLength: 16 }).map((bad) => Buffer.concat([Buffer.from('{"session_id":"utf8","hook_event_name":"Stop","x":"'), Buffer.from(bad).map((b) => b | 0x80), Buffer.from('"}')])),
  mutatedFixture,
  mutatedFixture,
);

const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
/** TRACEPARENT: absent, well-formed, near misses, or anything an environment can hold (no NUL). */
const traceparent: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.tuple(hex(32), hex(16), hex(2)).map(([t, s, f]) => `00-${t}-${s}-${f}`),
  fc.tuple(hex(32), hex(16), fc.string({ maxLength: 8 })).map(([t, s, junk]) => `00-${t}-${s}-01${junk}`),
  fc.string({ maxLength: 300 }).filter((v) => !v.includes('\u0000')),
);

let home: string;
let token: string;
let url: string;
let env: NodeJS.ProcessEnv;
let stop: () => Promise<void>;
let cleanup: () => void;
let handed = 0;

beforeAll(async () => {
  const t = tempRoot('cob-fuzz-hook-');
  cleanup = t.cleanup;
  home = join(t.root, 'otel-home');
  mkdirSync(home, { mode: 0o700 });
  writeConfig(home, await freePort());
  env = cleanEnv({ HOME: t.root, CLAUDE_OTEL_HOME: home });
  const agent = await startAgentProcess(home, env);
  stop = agent.stop;
  url = agent.url;
  token = readFileSync(join(home, 'token'), 'utf8').trim();
});
afterAll(async () => {
  await stop();
  cleanup();
});

describe('the command hooks under random and mutated stdin', () => {
  it.each(['bash', 'node'] as const)('%s: always exit 0 and print nothing', async (kind) => {
    await fc.assert(
      fc.asyncProperty(input, traceparent, async (stdin, tp) => {
        const run = await runHook(kind, stdin, tp === undefined ? env : { ...env, TRACEPARENT: tp });
        handed++;
        expect(run).toEqual({ code: 0, output: '' });
      }),
      { numRuns: 12, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31), endOnFailure: true },
    );
  });

  it('every event handed over is accepted or counted as rejected by the agent, which is still up', async () => {
    await waitFor(() => readdirSync(join(home, 'spool', 'new')).length === 0, 30_000, 'the spool to drain');
    const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    const sum = (re: RegExp) => [...metrics.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
    const accepted = sum(/^claude_otel_events_total\{[^}]*\} (\d+)/gm);
    const rejected = sum(/^claude_otel_events_rejected_total\{[^}]*\} (\d+)/gm);
    expect(handed).toBe(24);
    expect(accepted + rejected).toBe(handed);
  });
});
