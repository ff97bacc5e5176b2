import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
// The product end to end with the real Claude Code CLI: hooks installed by `claude-otel install`,
// the agent started on demand by the hook, spans exported over OTLP/HTTP to a receiver in the test.
import { afterEach, describe, expect, it } from 'vitest';
import { setupBridge, parentOf, spansOf, traceProblems, type Bridge } from '../support/bridge-e2e.js';
import { waitFor } from '../support/agent-harness.js';
import { bash, scenario, text, tool, tools } from '../support/model-server.js';

const bridges: Bridge[] = [];
afterEach(async () => {
  for (const b of bridges.splice(0)) await b.cleanup();
});

async function bridge(...args: Parameters<typeof setupBridge>) {
  const b = await setupBridge(...args);
  bridges.push(b);
  return b;
}

const agentCall = (prompt: string, background = false) =>
  tool('Agent', { description: prompt.slice(0, 12), prompt, subagent_type: 'general-purpose', run_in_background: background });

/** Stops the agent (SIGTERM flushes), then checks the trace invariants for every session run. */
async function finish(b: Bridge) {
  await b.stopAgent();
  const payloads = b.payloads();
  const problems = traceProblems(b.receiver.spans, payloads, b.ms.issuedToolUseIds());
  expect(problems).toEqual([]);
  // Every event arrived (http hooks and spool alike): nothing had to be marked as a gap.
  expect(b.receiver.spans.filter((s) => s.attributes['claude_code.gap'] !== undefined).map((s) => s.name)).toEqual([]);
  return { spans: b.receiver.spans, payloads };
}

describe('claude-otel with the real Claude Code CLI', () => {
  it('traces Bash, Read, Write and a failing Bash (exit 3) as one rooted tree', async () => {
    let b!: Bridge;
    b = await bridge(
      scenario({
        main: (req) => [
          tools(bash('echo hello'), tool('Read', { file_path: `${b.project.dir}/a.txt` }), tool('Write', { file_path: `${b.project.dir}/b.txt`, content: 'x' })),
          tools(bash('exit 3', 'fail on purpose')),
          text('done'),
        ][req.step] ?? text('done'),
      }),
      { allowedTools: ['Bash', 'Read', 'Write'] },
    );
    b.project.file('project/a.txt', 'hello\n');
    const r = await b.run('use tools');
    expect(r.exitCode).toBe(0);
    const { spans, payloads } = await finish(b);
    const sessionId = payloads[0]!.session_id;
    const mine = spansOf(spans, sessionId);
    const root = mine.find((s) => !s.parentSpanId)!;
    expect(root.name).toBe('invoke_agent claude-code');
    const turn = mine.find((s) => s.name === 'claude_code.turn')!;
    expect(turn.parentSpanId).toBe(root.spanId);
    const tools_ = mine.filter((s) => s.name.startsWith('execute_tool'));
    expect(tools_.map((s) => s.name).sort()).toEqual(['execute_tool Bash', 'execute_tool Bash', 'execute_tool Read', 'execute_tool Write']);
    for (const t of tools_) expect(t.parentSpanId).toBe(turn.spanId);
    const failed = tools_.find((s) => s.status.code === 2)!;
    expect(failed.attributes['error.type']).toBe('exit_code_3');
    expect(tools_.filter((s) => s.status.code === 2)).toHaveLength(1);
  });

  it('nests a foreground subagent and its tool under the Agent call', async () => {
    const b = await bridge(
      scenario({
        main: (req) => [tools(agentCall('SUB1: echo')), text('ok')][req.step] ?? text('ok'),
        subagents: { 'SUB1:': [tools(bash('echo in-sub')), text('sub done')] },
      }),
      { allowedTools: ['Bash', 'Agent'] },
    );
    expect((await b.run('delegate')).exitCode).toBe(0);
    const { spans } = await finish(b);
    const agent = spans.find((s) => s.name === 'invoke_agent general-purpose')!;
    expect(parentOf(spans, agent)?.name).toBe('execute_tool Agent');
    const inner = spans.find((s) => s.attributes['gen_ai.agent.id'] === agent.attributes['gen_ai.agent.id'] && s.name === 'execute_tool Bash');
    expect(inner?.parentSpanId).toBe(agent.spanId);
  });

  it('puts two parallel subagents each under its own Agent call', async () => {
    const b = await bridge(
      scenario({
        main: (req) => [tools(agentCall('PAR-A: one'), agentCall('PAR-B: two')), text('ok')][req.step] ?? text('ok'),
        subagents: { 'PAR-A:': [tools(bash('echo A')), text('A done')], 'PAR-B:': [tools(bash('echo B')), text('B done')] },
      }),
      { allowedTools: ['Bash', 'Agent'] },
    );
    expect((await b.run('two at once')).exitCode).toBe(0);
    const { spans, payloads } = await finish(b);
    const agents = spans.filter((s) => s.name === 'invoke_agent general-purpose');
    expect(agents).toHaveLength(2);
    for (const agent of agents) {
      const call = parentOf(spans, agent)!;
      const post = payloads.find((p) => p.hook_event_name === 'PostToolUse' && p.tool_use_id === call.attributes['gen_ai.tool.call.id']);
      expect((post as { tool_response?: { agentId?: string } }).tool_response?.agentId).toBe(agent.attributes['gen_ai.agent.id']);
    }
  });

  it('keeps a background agent under its Agent call and traces the task-notification turn', async () => {
    const b = await bridge(
      scenario({
        main: (req) => (req.promptText.includes('<task-notification>') ? text('noted') : ([tools(agentCall('BG: work', true)), text('launched')][req.step] ?? text('ok'))),
        subagents: { 'BG:': [tools(bash('sleep 1; echo bg')), text('bg done')] },
      }),
      { allowedTools: ['Bash', 'Agent'] },
    );
    expect((await b.run('in the background')).exitCode).toBe(0);
    const { spans } = await finish(b);
    const agent = spans.find((s) => s.name === 'invoke_agent general-purpose')!;
    expect(agent.attributes['claude_code.agent.background']).toBe(true);
    expect(parentOf(spans, agent)?.name).toBe('execute_tool Agent');
    expect(spans.filter((s) => s.name === 'claude_code.turn').map((s) => s.attributes['claude_code.prompt.kind']).sort()).toEqual(['task_notification', 'user']);
  });

  it('closes a tool outside --allowedTools as denied', async () => {
    let b!: Bridge;
    b = await bridge(
      scenario({ main: (req) => [tools(tool('Write', { file_path: `${b.project.dir}/no.txt`, content: 'x' })), text('could not')][req.step] ?? text('ok') }),
      { allowedTools: ['Bash'] },
    );
    expect((await b.run('write something')).exitCode).toBe(0);
    const { spans } = await finish(b);
    const write = spans.find((s) => s.name === 'execute_tool Write')!;
    expect(write.attributes['claude_code.tool.outcome']).toBe('denied');
    expect(write.attributes['error.type']).toBe('permission_denied');
    expect(write.status.code).toBe(2);
  });

  it('joins a --resume\'d second turn to the same trace under one root', async () => {
    const b = await bridge(scenario({ main: (req) => [tools(bash('echo turn')), text('ok')][req.step] ?? text('ok') }), { allowedTools: ['Bash'] });
    const first = await b.run('first');
    expect(first.exitCode).toBe(0);
    const sessionId = first.json!.session_id as string;
    expect((await b.run('second', { extraArgs: ['--resume', sessionId] })).exitCode).toBe(0);
    const { spans } = await finish(b);
    const mine = spansOf(spans, sessionId);
    const root = mine.find((s) => !s.parentSpanId)!;
    const segment = mine.find((s) => s.name === 'claude_code.session.resume')!;
    expect(segment.parentSpanId).toBe(root.spanId);
    const turns = mine.filter((s) => s.name === 'claude_code.turn');
    expect(turns.map((t) => t.parentSpanId).sort()).toEqual([root.spanId, segment.spanId].sort());
  });

  it('keeps two sessions running at once apart', async () => {
    const b = await bridge(scenario({ main: (req) => [tools(bash('echo one')), text('ok')][req.step] ?? text('ok') }), { allowedTools: ['Bash'] });
    const [r1, r2] = await Promise.all([b.run('session one'), b.run('session two')]);
    expect(r1.exitCode).toBe(0);
    expect(r2.exitCode).toBe(0);
    const { spans, payloads } = await finish(b);
    expect(new Set(payloads.map((p) => p.session_id)).size).toBe(2);
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(2);
  });

  it('loses nothing when the agent is killed -9 between PreToolUse and PostToolUse (durable transport)', async () => {
    const b = await bridge(
      scenario({ main: (req) => [tools(bash('kill -9 "$(cat "$CLAUDE_OTEL_HOME/agent.pid")"; sleep 0.3; echo killed')), tools(bash('echo after')), text('ok')][req.step] ?? text('ok') }),
      { allowedTools: ['Bash'], transport: 'durable' },
    );
    expect((await b.run('crash the agent')).exitCode).toBe(0);
    await waitFor(() => b.agentPid(), 10_000, "a restarted agent");
    const { spans, payloads } = await finish(b);
    const mine = spansOf(spans, payloads[0]!.session_id);
    expect(mine.filter((s) => s.attributes['claude_code.gap'] !== undefined)).toEqual([]);
    const killer = mine.find((s) => s.name === 'execute_tool Bash' && s.attributes['claude_code.tool.outcome'] === 'success');
    expect(killer).toBeDefined();
    expect(mine.filter((s) => s.name === 'execute_tool Bash')).toHaveLength(2);
  });
});

describe('claude-otel when the agent dies in the default (http) transport', () => {
  // Claude Code does not retry http hooks: events sent while the agent is down are lost until the
  // next command hook (once per turn) starts it again. The trace must stay well-formed, and the
  // loss must be marked on the spans and counted.
  it('leaves a well-formed trace with the outage marked as a gap and counted', async () => {
    const b = await bridge(
      scenario({ main: (req) => [tools(bash('kill -9 "$(cat "$CLAUDE_OTEL_HOME/agent.pid")"; sleep 0.3; echo killed')), tools(bash('echo after')), text('ok')][req.step] ?? text('ok') }),
      { allowedTools: ['Bash'] },
    );
    expect((await b.run('crash the agent')).exitCode).toBe(0);
    const pid = await waitFor(() => b.agentPid(), 10_000, 'a restarted agent');
    expect(pid).toBeGreaterThan(0);
    const info = JSON.parse(require('node:fs').readFileSync(`${b.otelHome}/agent.json`, 'utf8')) as { url: string };
    expect(await (await fetch(`${info.url}/metrics`)).text()).toMatch(/claude_otel_gaps_total\S* [1-9]/);
    await b.stopAgent();
    const payloads = b.payloads();
    const sessionId = payloads[0]!.session_id;
    const mine = spansOf(b.receiver.spans, sessionId);
    expect(traceProblems(b.receiver.spans, payloads, [], { eventsRemoved: true }).filter((p) => !p.startsWith('span for tool_use_id'))).toEqual([]);
    const killer = mine.find((s) => s.name === 'execute_tool Bash' && s.attributes['claude_code.gap'] === 'missing_end');
    expect(killer?.attributes['claude_code.tool.outcome']).toBe('not_completed');
    const turn = mine.find((s) => s.name === 'claude_code.turn')!;
    expect(turn.attributes['claude_code.gap']).toBe('agent_down');
    expect(turn.events.map((e) => e.name)).toContain('claude_code.bridge.gap');
  });
});
