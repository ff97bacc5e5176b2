// The lifecycles real sessions live in (issue 10), end to end: the real Claude Code CLI 2.1.332 and
// our hooks installed by `claude-otel install`, the agent started on demand, spans exported to an
// OTLP receiver. Each test asserts the exact span tree of the session and the trace invariants
// (one trace per session, one root, no duplicate span ids, every parent exported, children inside
// their parent's time, no gap marks: every event Claude Code sends arrives in these runs).
// The sessions are the ones recorded in test/fixtures/claude-code-2.1.332/sessions/.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { setupBridge, spansOf, type Bridge } from '../support/bridge-e2e.js';
import { waitFor } from '../support/agent-harness.js';
import { lifecycle, runLifecycle } from '../support/lifecycle-scenarios.js';
import type { Script } from '../support/model-server.js';
import { lifecycleProblems, skillShellIds, spanTree } from '../support/span-tree.js';

const bridges: Bridge[] = [];
afterEach(async () => {
  for (const b of bridges.splice(0)) await b.cleanup();
});

interface DriveOptions {
  /** Agent config overrides (config.json `agent`). */
  agent?: Record<string, unknown>;
  /** Runs before every segment after the first (e.g. stop the agent). */
  between?: (b: Bridge) => Promise<void>;
}

/** Runs lifecycle `name` through the bridge; returns the session's tree and the invariant violations. */
async function drive(name: string, opts: DriveOptions & { order?: 'time' | 'canonical' } = {}) {
  const lc = lifecycle(name);
  let script: Script | undefined;
  const b = await setupBridge((req) => script!(req), { allowedTools: lc.allowedTools, ...(opts.agent ? { agent: opts.agent } : {}) });
  bridges.push(b);
  script = lc.script(b.project);
  for (const [file, content] of Object.entries(lc.files?.(b.project) ?? {})) b.project.file(`project/${file}`, content);
  const { sessionId, results } = await runLifecycle(
    lc,
    (prompt, o) => b.run(prompt, { ...o, env: { ...lc.env, ...o.env } }),
    () => b.payloads(),
    opts.between ? () => opts.between!(b) : undefined,
  );
  const gaps = await gapsCounted(b);
  await b.stopAgent(); // SIGTERM flushes every open span
  const payloads = b.payloads();
  const spans = b.receiver.spans;
  const problems = lifecycleProblems(spans, payloads, b.ms.issuedToolUseIds());
  if (gaps > 0) problems.push(`claude_otel_gaps_total ${gaps} in the last agent`);
  return {
    b, sessionId, results, payloads, spans, mine: spansOf(spans, sessionId),
    tree: spanTree(spans, sessionId, opts.order),
    problems,
  };
}

/** The running agent's claude_otel_gaps_total (summed over its labels); 0 when no agent runs. */
async function gapsCounted(b: Bridge): Promise<number> {
  if (!b.agentPid()) return 0;
  const { url } = JSON.parse(readFileSync(join(b.otelHome, 'agent.json'), 'utf8')) as { url: string };
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(/^claude_otel_gaps_total\S* (\d+(?:\.\d+)?)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

const RESUMED_TWICE = [
  'invoke_agent claude-code',
  '  claude_code.turn outcome=stop',
  '    execute_tool Bash outcome=success',
  '  claude_code.session.resume',
  '    claude_code.turn outcome=stop',
  '      execute_tool Bash outcome=success',
  '  claude_code.session.resume',
  '    claude_code.turn outcome=stop',
  '      execute_tool Bash outcome=success',
];

/** The two resumed segments are two spans with two ids (issue 10: the second reused the first's). */
function expectTwoDistinctSegments(mine: ReturnType<typeof spansOf>) {
  const segments = mine.filter((s) => s.name === 'claude_code.session.resume');
  expect.soft(segments).toHaveLength(2);
  expect.soft(new Set(segments.map((s) => s.spanId)).size).toBe(2);
}

describe('session lifecycles with the real Claude Code CLI (issue 10)', () => {
  it('resume after an agent restart, twice: a segment each, no reused span id', async () => {
    const r = await drive('resume-twice', {
      between: async (b) => {
        expect(b.agentPid()).toBeGreaterThan(0); // the segment's hooks started it
        await b.stopAgent();
      },
    });
    expect(r.results.map((x) => x.exitCode)).toEqual([0, 0, 0]);
    expect.soft(r.tree).toEqual(RESUMED_TWICE);
    expectTwoDistinctSegments(r.mine);
    expect(r.problems).toEqual([]);
  });

  it('resume after the agent exited when idle, twice: a segment each, no reused span id', async () => {
    const pids: number[] = [];
    const r = await drive('resume-twice', {
      agent: { idleExitSeconds: 2, reaperIntervalSeconds: 1 },
      between: async (b) => {
        // The segment's hooks started the agent; with no open session it exits by itself.
        const pid = b.agentPid();
        expect(pid).toBeGreaterThan(0);
        await waitFor(() => b.agentPid() === undefined, 20_000, 'the agent to exit when idle');
        pids.push(pid!);
      },
    });
    expect(new Set(pids).size).toBe(2); // a new agent process per resumed segment
    expect(r.results.map((x) => x.exitCode)).toEqual([0, 0, 0]);
    expect.soft(r.tree).toEqual(RESUMED_TWICE);
    expectTwoDistinctSegments(r.mine);
    expect(r.problems).toEqual([]);
  });

  it('/compact in a fresh session: a compaction span, no extra segment, no false gap', async () => {
    const r = await drive('compact-fresh');
    expect(r.results[0]!.exitCode).toBe(0);
    expect.soft(r.tree).toEqual([
      'invoke_agent claude-code',
      '  claude_code.turn outcome=stop',
      '    execute_tool Bash outcome=success',
      '  claude_code.compaction',
      '  claude_code.turn outcome=stop',
      '    execute_tool Bash outcome=success',
    ]);
    expect(r.problems).toEqual([]);
  });

  it('/compact in a resumed session (stream-json and -p "/compact"): compaction inside its segment', async () => {
    const r = await drive('compact-resumed');
    expect(r.results.map((x) => x.exitCode)).toEqual([0, 0, 0]);
    expect.soft(r.tree).toEqual([
      'invoke_agent claude-code',
      '  claude_code.turn outcome=stop',
      '    execute_tool Bash outcome=success',
      '  claude_code.session.resume',
      '    claude_code.compaction',
      '    claude_code.turn outcome=stop',
      '      execute_tool Bash outcome=success',
      '  claude_code.session.resume',
      '    claude_code.compaction',
    ]);
    expectTwoDistinctSegments(r.mine);
    expect(r.problems).toEqual([]);
  });

  it('auto-compaction inside a turn of a resumed session: a compaction span under that turn, no extra segment', async () => {
    const r = await drive('auto-compact-resumed');
    expect(r.results.map((x) => x.exitCode)).toEqual([0, 0]);
    expect.soft(r.tree).toEqual([
      'invoke_agent claude-code',
      '  claude_code.turn outcome=stop',
      '    execute_tool Bash outcome=success',
      '  claude_code.session.resume',
      '    claude_code.turn outcome=stop',
      '      execute_tool Bash outcome=success',
      '      claude_code.compaction',
    ]);
    expect(r.problems).toEqual([]);
  });

  it('a subagent whose API call fails: the subagent ends in ERROR, the main turn goes on and stops', async () => {
    const r = await drive('subagent-api-error');
    expect(r.results[0]!.exitCode).toBe(0);
    expect.soft(r.tree).toEqual([
      'invoke_agent claude-code',
      '  claude_code.turn outcome=stop',
      '    execute_tool Agent outcome=error ERROR',
      '      invoke_agent general-purpose ERROR',
      '    execute_tool Bash outcome=success',
    ]);
    const sub = r.mine.find((s) => s.name === 'invoke_agent general-purpose');
    const failure = r.payloads.find((p) => p.hook_event_name === 'StopFailure')!;
    expect.soft(sub?.attributes['gen_ai.agent.id']).toBe(failure.agent_id);
    expect.soft(sub?.attributes['error.type']).toBe('server_error');
    const root = r.mine.find((s) => !s.parentSpanId);
    expect.soft(root?.status.code).not.toBe(2); // the session's last turn ended with Stop
    expect(r.problems).toEqual([]);
  });

  it('two parallel subagents, one of which fails: the failure goes to that subagent (by agent_id), not the latest', async () => {
    const r = await drive('parallel-subagents-one-fails', { order: 'canonical' }); // the two Agent calls start together
    expect(r.results[0]!.exitCode).toBe(0);
    expect.soft(r.tree).toEqual([
      'invoke_agent claude-code',
      '  claude_code.turn outcome=stop',
      '    execute_tool Agent outcome=error ERROR',
      '      invoke_agent general-purpose ERROR',
      '    execute_tool Agent outcome=success',
      '      invoke_agent general-purpose',
      '        execute_tool Bash outcome=success',
      '    execute_tool Bash outcome=success',
    ]);
    const failed = r.payloads.find((p) => p.hook_event_name === 'StopFailure')!;
    const errored = r.mine.filter((s) => s.name === 'invoke_agent general-purpose' && s.status.code === 2);
    expect.soft(errored.map((s) => s.attributes['gen_ai.agent.id'])).toEqual([failed.agent_id]);
    expect(r.problems).toEqual([]);
  });

  it('a background subagent whose API call fails after the main turn ended: ERROR on the subagent only', async () => {
    const r = await drive('background-subagent-api-error');
    expect(r.results[0]!.exitCode).toBe(0);
    // Its StopFailure comes after the first turn's Stop, carrying that turn's prompt_id.
    expect.soft(r.tree).toEqual([
      'invoke_agent claude-code',
      '  claude_code.turn outcome=stop',
      '    execute_tool Agent outcome=success',
      '      invoke_agent general-purpose ERROR',
      '        execute_tool Bash outcome=success',
      '  claude_code.turn outcome=stop',
    ]);
    expect.soft(r.mine.find((s) => !s.parentSpanId)?.status.code).not.toBe(2);
    expect(r.problems).toEqual([]);
  });

  it("a subagent's tool outside --allowedTools: denied, no gap", async () => {
    const r = await drive('subagent-tool-denied');
    expect(r.results[0]!.exitCode).toBe(0);
    expect.soft(r.tree).toEqual([
      'invoke_agent claude-code',
      '  claude_code.turn outcome=stop',
      '    execute_tool Agent outcome=success',
      '      invoke_agent general-purpose',
      '        execute_tool Write outcome=denied ERROR',
      '    execute_tool Bash outcome=success',
    ]);
    const write = r.mine.find((s) => s.name === 'execute_tool Write');
    expect.soft(write?.attributes['error.type']).toBe('permission_denied');
    expect(r.problems).toEqual([]);
  });

  // Claude Code sends nothing for an interrupted turn: no Post event for the running tools, no
  // SubagentStop, no Stop; only SessionEnd (SIGINT) or the next UserPromptSubmit (SDK interrupt).
  // Every event it sends arrives, so the bridge must close the spans as interrupted, not as a gap.
  it('a subagent interrupted by SIGINT to the CLI: closed as interrupted at SessionEnd, no gap', async () => {
    const r = await drive('subagent-interrupted-sigint');
    expect.soft(r.tree).toEqual([
      'invoke_agent claude-code',
      '  claude_code.turn outcome=interrupted',
      '    execute_tool Agent outcome=interrupted ERROR',
      '      invoke_agent general-purpose',
      '        execute_tool Bash outcome=interrupted ERROR',
    ]);
    expect(r.problems).toEqual([]);
  });

  it("the main agent's tool interrupted by SIGINT: closed as interrupted at SessionEnd, no gap", async () => {
    const r = await drive('main-tool-interrupted-sigint');
    expect.soft(r.tree).toEqual([
      'invoke_agent claude-code',
      '  claude_code.turn outcome=interrupted',
      '    execute_tool Bash outcome=interrupted ERROR',
    ]);
    expect(r.problems).toEqual([]);
  });

  it('a subagent interrupted (SDK interrupt), then a next prompt: the first turn closes as interrupted', async () => {
    const r = await drive('subagent-interrupted-then-prompt');
    expect(r.results[0]!.exitCode).toBe(0);
    expect.soft(r.tree).toEqual([
      'invoke_agent claude-code',
      '  claude_code.turn outcome=interrupted',
      '    execute_tool Agent outcome=interrupted ERROR',
      '      invoke_agent general-purpose',
      '        execute_tool Bash outcome=interrupted ERROR',
      '  claude_code.turn outcome=stop',
      '    execute_tool Bash outcome=success',
    ]);
    expect(r.problems).toEqual([]);
  });

  // PreSkillShellCommand has no Post event: the span has no outcome, or one, but no gap mark.
  const skillShellLine = (depth: number) => expect.stringMatching(new RegExp(`^${'  '.repeat(depth)}execute_tool Bash( outcome=\\w+)?$`));

  it('a slash command with an embedded shell line (-p "/greet"): PreSkillShellCommand under its turn', async () => {
    const r = await drive('slash-command-shell');
    expect(r.results[0]!.exitCode).toBe(0);
    expect.soft(r.tree).toEqual(['invoke_agent claude-code', '  claude_code.turn outcome=stop', skillShellLine(2)]);
    const shell = r.mine.find((s) => s.attributes['gen_ai.tool.call.id'] === skillShellIds(r.payloads)[0]);
    expect.soft(shell?.attributes['claude_code.skill.command_name']).toBe('greet');
    expect(r.problems).toEqual([]);
  });

  it('a skill with an embedded shell line, run by the user and by the model (Skill tool)', async () => {
    const r = await drive('skill-shell');
    expect(r.results.map((x) => x.exitCode)).toEqual([0, 0]);
    expect.soft(r.tree).toEqual([
      'invoke_agent claude-code',
      '  claude_code.turn outcome=stop',
      skillShellLine(2),
      '  claude_code.session.resume',
      '    claude_code.turn outcome=stop',
      '      execute_tool Skill outcome=success',
      skillShellLine(4), // under the Skill call: its tool_use_id is '<Skill call id>:preamble-0'
    ]);
    const shells = r.mine.filter((s) => skillShellIds(r.payloads).includes(s.attributes['gen_ai.tool.call.id'] as string)).sort((a, b) => a.startMs - b.startMs);
    expect.soft(shells.map((s) => s.attributes['claude_code.skill.invoked_by'])).toEqual(['user', 'claude']);
    expect(r.problems).toEqual([]);
  });

  it('a background subagent still running when the main turn ends', async () => {
    const r = await drive('background-subagent');
    expect(r.results[0]!.exitCode).toBe(0);
    expect.soft(r.tree).toEqual([
      'invoke_agent claude-code',
      '  claude_code.turn outcome=stop',
      '    execute_tool Agent outcome=success',
      '      invoke_agent general-purpose',
      '        execute_tool Bash outcome=success',
      '  claude_code.turn outcome=stop',
    ]);
    const sub = r.mine.find((s) => s.name === 'invoke_agent general-purpose');
    expect.soft(sub?.attributes['claude_code.agent.background']).toBe(true);
    expect(r.problems).toEqual([]);
  });
});
