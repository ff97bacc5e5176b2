// Bad input through both command hooks (bash script and `claude-otel hook`) with a running agent:
// each exits 0 within the hook's time budget and prints nothing; the agent stays up and counts.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_HOOK_TIMEOUT_SECONDS } from '../../src/install/hook-entries.js';
import { fixture } from '../support/fixtures.js';
import { removeHome, startTestAgent, waitFor, type TestAgent } from '../support/agent-harness.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SID = 'eeeeeeee-2222-4333-8444-555555555555';

const inputs: [string, Buffer][] = [
  ['empty stdin', Buffer.alloc(0)],
  ['malformed JSON', Buffer.from('{"session_id": "x", ')],
  ['a 6 MB tool_response', Buffer.from(JSON.stringify(fixture('PostToolUse', { session_id: SID, tool_use_id: 'big', tool_response: { stdout: 'y'.repeat(6 * 1024 * 1024) } })))],
  ['a 10 MB tool_response (over the per-event cap)', Buffer.from(JSON.stringify(fixture('PostToolUse', { session_id: SID, tool_use_id: 'big2', tool_response: { stdout: 'y'.repeat(10 * 1024 * 1024) } })))],
  ['an unknown hook_event_name', Buffer.from(JSON.stringify({ session_id: SID, hook_event_name: 'FutureEvent', x: 1 }))],
  ['wrong types', Buffer.from(JSON.stringify({ session_id: ['no'], hook_event_name: 12 }))],
  ['invalid UTF-8', Buffer.concat([Buffer.from('{"session_id":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('","hook_event_name":"Stop"}')])],
];

function run(command: string[], input: Buffer, home: string): Promise<{ code: number | null; killed: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), { env: { ...process.env, CLAUDE_OTEL_HOME: home }, timeout: COMMAND_HOOK_TIMEOUT_SECONDS * 1000 });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code, signal) => resolve({ code, killed: signal !== null, output }));
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

describe.each([
  ['bin/claude-otel-hook', [join(ROOT, 'bin', 'claude-otel-hook')]],
  ['claude-otel hook', [process.execPath, join(ROOT, 'dist', 'cli.js'), 'hook']],
])('%s with bad input', (_name, command) => {
  let agent: TestAgent;
  beforeAll(async () => {
    agent = await startTestAgent();
  });
  afterAll(async () => {
    await agent.stop();
    removeHome(agent.home);
  });

  // Asynchronous on purpose: the agent runs in this process and must keep answering meanwhile.
  it.each(inputs)('exits 0 and prints nothing for %s', async (_label, input) => {
    const r = await run(command, input, agent.home);
    expect(r.killed).toBe(false); // finished within the hook's time budget
    expect(r.code).toBe(0);
    expect(r.output).toBe('');
  });

  it('leaves the agent up, with every reject counted and the valid events accepted', async () => {
    expect((await fetch(`${agent.url}/healthz`)).status).toBe(200);
    await waitFor(() => readdirSync(join(agent.home, 'spool', 'new')).length === 0, 10_000, 'the spool to drain');
    const text = await agent.metrics();
    const rejected = [...text.matchAll(/^claude_otel_events_rejected_total\{reason="([a-z_]+)"\} (\d+)/gm)].reduce((n, m) => n + Number(m[2]), 0);
    const spooledRejects = readdirSync(join(agent.home, 'spool', 'rejected')).length;
    // empty, malformed, wrong types, over 8 MiB: rejected; 6 MB, unknown event, invalid UTF-8 (decoded with U+FFFD): accepted.
    expect(rejected).toBe(4);
    expect(spooledRejects).toBe(_name === 'bin/claude-otel-hook' ? 4 : 0);
    const accepted = [...(await agent.metrics()).matchAll(/^claude_otel_events_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(accepted).toBe(3);
  });
});
