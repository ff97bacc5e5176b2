// TRACEPARENT from Claude Code's command hooks: the bash hook and `claude-otel hook` forward it
// only in its W3C shape (a spool file name, a header), the agent validates it (src/events/
// traceparent.ts) and the trace builder links the turn to it (src/model/interaction-link.ts).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSpool } from '../../src/agent/spool.js';
import { validTraceparent } from '../../src/events/traceparent.js';
import { runHookCommand } from '../../src/hook/hook-command.js';
import { fixture } from '../support/fixtures.js';
import { replay, type Step } from '../support/replay.js';

const TRACE = '020a789ffab785e1a8b04ef05d6af3fd';
const SPAN = 'e2d6218b9ac59cdb';
const TP = `00-${TRACE}-${SPAN}-01`;
const BAD = [
  '', 'garbage', `00-${TRACE}-${SPAN}`, `00-${'0'.repeat(32)}-${SPAN}-01`, `00-${TRACE}-${'0'.repeat(16)}-01`,
  `ff-${TRACE}-${SPAN}-01`, `00-${TRACE}-${SPAN}-01-extra`, `00-${TRACE.toUpperCase()}-${SPAN}-01`,
  `00-${TRACE}-${SPAN}-01\nx`, `$(touch /tmp/pwned)-${TRACE}`, `00-${TRACE}-${SPAN}-01`.padEnd(4000, 'x'),
];

describe('validTraceparent', () => {
  it('keeps the W3C form, canonical', () => {
    expect(validTraceparent(TP)).toBe(TP);
    expect(validTraceparent(` ${TP} `)).toBe(TP);
    expect(validTraceparent(`00-${TRACE}-${SPAN}-00`)).toBe(`00-${TRACE}-${SPAN}-00`);
    // A later version may add fields: read as its first four (the W3C rule).
    expect(validTraceparent(`01-${TRACE}-${SPAN}-01-future`)).toBe(TP);
  });
  it.each(BAD)('drops %j', (v) => expect(validTraceparent(v)).toBeUndefined());
  it('drops what is not a string', () => {
    for (const v of [undefined, null, 1, {}, [TP]]) expect(validTraceparent(v)).toBeUndefined();
  });
});

const SID = '11111111-2222-4333-8444-555555555555';
const ev = (name: string, at: number, traceparent?: string, extra: Record<string, unknown> = {}): Step => ({
  payload: fixture(name, { session_id: SID, prompt_id: 'p1', ...extra }), at, ...(traceparent !== undefined ? { traceparent } : {}),
});
const tool = { tool_use_id: 'toolu_1', tool_name: 'Bash' };
const LINK = [{ traceId: TRACE, spanId: SPAN, traceFlags: 1, attributes: { 'claude_code.link.type': 'claude_code.interaction' } }];

describe('the turn span links to Claude Code\'s interaction span', () => {
  it('from UserPromptSubmit; tools, root and later events add nothing', () => {
    const other = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
    const { spans } = replay([
      ev('SessionStart', 0), ev('UserPromptSubmit', 10, TP), ev('PreToolUse', 20, TP, tool),
      ev('PostToolUse', 30, other, { ...tool, duration_ms: 5 }), ev('Stop', 40, TP), ev('SessionEnd', 50),
    ]);
    const turn = spans.find((s) => s.name === 'claude_code.turn')!;
    expect(turn.links).toEqual(LINK);
    expect(spans.filter((s) => s !== turn).map((s) => s.links)).toEqual(spans.filter((s) => s !== turn).map(() => undefined));
  });

  it('from a later event of the turn when its prompt carried none (or a bad one)', () => {
    const { spans } = replay([ev('SessionStart', 0), ev('UserPromptSubmit', 10, 'not-a-traceparent'), ev('PreToolUse', 20, undefined, tool), ev('Stop', 40, TP), ev('SessionEnd', 50)]);
    expect(spans.find((s) => s.name === 'claude_code.turn')!.links).toEqual(LINK);
  });

  it('no TRACEPARENT, no link', () => {
    const { spans } = replay([ev('SessionStart', 0), ev('UserPromptSubmit', 10), ev('Stop', 40), ev('SessionEnd', 50)]);
    expect(spans.every((s) => s.links === undefined)).toBe(true);
  });
});

describe('the hooks forward TRACEPARENT only in its W3C shape, never failing on it', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const home = () => {
    const d = mkdtempSync(join(tmpdir(), 'cob-tp-'));
    dirs.push(d);
    return d;
  };
  const spooled = (otelHome: string) => {
    const dir = join(otelHome, 'spool', 'new');
    const spool = createSpool({ spoolNew: dir, spoolRejected: join(otelHome, 'spool', 'rejected') });
    return readdirSync(dir).map((name) => {
      const r = spool.read(name, { maxBytes: 1 << 20, youngSinceMs: 0 });
      return r.kind === 'event' ? { name, traceparent: r.traceparent, pid: r.pid, body: r.body } : { name, kind: r.kind };
    });
  };
  const payload = JSON.stringify(fixture('UserPromptSubmit', { session_id: SID }));

  // The hooks check the shape only (no fork, no parser): all-zero ids pass them and are dropped by the agent.
  const shaped = (v: string) => (/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/.test(v) ? v : undefined);
  it('the all-zero ids are the only bad values that get past the shape check', () => {
    expect(BAD.filter((b) => shaped(b))).toEqual([BAD[3], BAD[4]]);
  });

  it.each([TP, ...BAD])('bash hook, TRACEPARENT=%j', (value) => {
    const expected = shaped(value);
    const root = home();
    // A copy of the script with no ../dist/cli.js beside it: it spools and starts no agent.
    mkdirSync(join(root, 'bin'));
    copyFileSync(join(import.meta.dirname, '../../bin/claude-otel-hook'), join(root, 'bin', 'claude-otel-hook'));
    const otelHome = join(root, 'otel');
    const out = execFileSync('bash', [join(root, 'bin', 'claude-otel-hook')], { input: payload, env: { PATH: process.env.PATH, HOME: root, CLAUDE_OTEL_HOME: otelHome, CLAUDE_PID: '4242', TRACEPARENT: value } });
    expect(out.toString()).toBe('');
    const [entry, ...more] = spooled(otelHome);
    expect(more).toEqual([]);
    expect(entry).toMatchObject({ pid: 4242, body: payload, traceparent: expected });
  });

  it.each([TP, `00-${TRACE}-${SPAN}`, `00-${TRACE}-${SPAN}-01\n`, 'x'.repeat(5000)])('claude-otel hook (node), TRACEPARENT=%j', async (value) => {
    const expected = shaped(value);
    const root = home();
    const otelHome = join(root, 'otel');
    mkdirSync(otelHome, { mode: 0o700 });
    const stdin = Object.getOwnPropertyDescriptor(process, 'stdin')!;
    const { Readable } = await import('node:stream');
    Object.defineProperty(process, 'stdin', { value: Readable.from([Buffer.from(payload)]), configurable: true });
    try {
      // No agent: it spools; the agent start it then tries runs /bin/true instead of node.
      expect(await runHookCommand({ HOME: root, CLAUDE_OTEL_HOME: otelHome, CLAUDE_PID: '77', TRACEPARENT: value, CLAUDE_OTEL_NODE: '/bin/true' })).toBe(0);
    } finally {
      Object.defineProperty(process, 'stdin', stdin);
    }
    const [entry, ...more] = spooled(otelHome);
    expect(more).toEqual([]);
    expect(entry).toMatchObject({ pid: 77, body: payload, traceparent: expected });
  });

  it('claude-otel hook (node) starts the agent in the environment it was given, not its own', async () => {
    const root = home();
    const otelHome = join(root, 'otel');
    mkdirSync(otelHome, { mode: 0o700 });
    // CLAUDE_OTEL_NODE stands in for node: it records how the agent would have been started.
    const seen = join(root, 'started');
    const fakeNode = join(root, 'fake-node');
    writeFileSync(fakeNode, `#!/bin/sh\nprintf '%s\\n' "$*" "$CLAUDE_OTEL_HOME" "$MARK" > '${seen}'\n`, { mode: 0o755 });
    const stdin = Object.getOwnPropertyDescriptor(process, 'stdin')!;
    const { Readable } = await import('node:stream');
    Object.defineProperty(process, 'stdin', { value: Readable.from([Buffer.from(payload)]), configurable: true });
    try {
      expect(await runHookCommand({ HOME: root, CLAUDE_OTEL_HOME: otelHome, CLAUDE_OTEL_NODE: fakeNode, MARK: 'given-env' })).toBe(0);
    } finally {
      Object.defineProperty(process, 'stdin', stdin);
    }
    for (const deadline = Date.now() + 5000; !existsSync(seen) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    const [args, startedHome, mark] = readFileSync(seen, 'utf8').split('\n');
    expect(args).toMatch(/dist\/cli\.js agent --detached$/);
    expect([startedHome, mark]).toEqual([otelHome, 'given-env']);
  });
});
