import { describe, expect, it } from 'vitest';
import { traceIdFor } from '../../src/model/ids.js';
import { fixture } from '../support/fixtures.js';
import { checkTree, parentName, replay, type Step } from '../support/replay.js';

const SID = '11111111-2222-4333-8444-555555555555';
const P1 = 'prompt-1';
const ev = (name: string, at: number, overrides: Record<string, unknown> = {}): Step => ({
  payload: fixture(name, { session_id: SID, prompt_id: P1, ...overrides }),
  at,
});
const tool = (n: number, toolName = 'Bash', extra: Record<string, unknown> = {}) => ({ tool_use_id: `toolu_${n}`, tool_name: toolName, ...extra });

function sole<T>(items: T[], what: string): T {
  expect(items, what).toHaveLength(1);
  return items[0]!;
}

describe('createTraceBuilder', () => {
  it('builds one trace: root → turn → tool spans, with outcomes and durations', () => {
    const { spans } = replay([
      ev('SessionStart', 0),
      ev('UserPromptSubmit', 10),
      ev('PreToolUse', 20, tool(1)),
      ev('PostToolUse', 100, { ...tool(1), duration_ms: 41 }),
      ev('PreToolUse', 110, tool(2)),
      ev('PostToolUseFailure.exit3', 150, { ...tool(2), duration_ms: 27 }),
      ev('Stop', 200),
      ev('SessionEnd', 210),
    ]);
    const tree = checkTree(spans);
    expect(tree.orphans).toEqual([]);
    expect(tree.duplicates).toBe(0);
    const root = sole(tree.roots, 'roots');
    expect(root.name).toBe('invoke_agent claude-code');
    expect(root.traceId).toBe(traceIdFor(SID));
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    const turn = sole(spans.filter((s) => s.name === 'claude_code.turn'), 'turns');
    expect(turn.parentSpanId).toBe(root.spanId);
    const [ok, failed] = spans.filter((s) => s.name === 'execute_tool Bash');
    expect(ok!.parentSpanId).toBe(turn.spanId);
    expect(ok!.status.code).toBe('unset');
    expect(ok!.attributes).toMatchObject({ 'gen_ai.tool.call.id': 'toolu_1', 'claude_code.tool.duration_ms': 41, 'claude_code.tool.wait_ms': 39, 'claude_code.tool.outcome': 'success' });
    expect(ok!.endMs - ok!.startMs).toBe(80);
    expect(failed!.status).toEqual({ code: 'error', message: 'Exit code 3' });
    expect(failed!.attributes).toMatchObject({ 'error.type': 'exit_code_3', 'claude_code.tool.duration_ms': 27 });
    expect(root.attributes['claude_code.session.end_reason']).toBe('other');
  });

  it('nests a foreground subagent under the Agent call and its tools under the subagent', () => {
    const { spans } = replay([
      ev('SessionStart', 0),
      ev('UserPromptSubmit', 1),
      ev('PreToolUse.Agent', 2, { tool_use_id: 'toolu_A' }),
      ev('SubagentStart', 3, { agent_id: 'agent1' }),
      ev('PreToolUse.in-subagent', 4, { agent_id: 'agent1', tool_use_id: 'toolu_S' }),
      ev('PostToolUse.in-subagent', 5, { agent_id: 'agent1', tool_use_id: 'toolu_S' }),
      ev('SubagentStop', 6, { agent_id: 'agent1' }),
      ev('PostToolUse.Agent', 7, { tool_use_id: 'toolu_A', tool_response: { status: 'completed', agentId: 'agent1' } }),
      ev('Stop', 8),
      ev('SessionEnd', 9),
    ]);
    expect(checkTree(spans).orphans).toEqual([]);
    const agent = sole(spans.filter((s) => s.name === 'invoke_agent general-purpose'), 'subagents');
    expect(parentName(spans, agent)).toBe('execute_tool Agent');
    const inner = spans.find((s) => s.attributes['gen_ai.tool.call.id'] === 'toolu_S');
    expect(inner?.parentSpanId).toBe(agent.spanId);
    expect(agent.attributes['claude_code.agent.background']).toBe(false);
  });

  it('puts parallel subagents under their own Agent calls even when they start in the other order', () => {
    const agentCall = (id: string) => ({ tool_use_id: id, tool_input: { subagent_type: 'general-purpose', prompt: 'x', run_in_background: false } });
    const { spans } = replay([
      ev('SessionStart', 0),
      ev('UserPromptSubmit', 1),
      ev('PreToolUse.Agent', 2, agentCall('toolu_A1')),
      ev('PreToolUse.Agent', 3, agentCall('toolu_A2')),
      ev('SubagentStart', 4, { agent_id: 'second' }),
      ev('SubagentStart', 5, { agent_id: 'first' }),
      ev('PreToolUse.in-subagent', 6, { agent_id: 'second', tool_use_id: 'toolu_s2' }),
      ev('PreToolUse.in-subagent', 6, { agent_id: 'first', tool_use_id: 'toolu_s1' }),
      ev('PostToolUse.in-subagent', 7, { agent_id: 'first', tool_use_id: 'toolu_s1' }),
      ev('PostToolUse.in-subagent', 8, { agent_id: 'second', tool_use_id: 'toolu_s2' }),
      ev('SubagentStop', 9, { agent_id: 'first' }),
      ev('SubagentStop', 10, { agent_id: 'second' }),
      ev('PostToolUse.Agent', 11, { ...agentCall('toolu_A1'), tool_response: { agentId: 'first', status: 'completed' } }),
      ev('PostToolUse.Agent', 12, { ...agentCall('toolu_A2'), tool_response: { agentId: 'second', status: 'completed' } }),
      ev('Stop', 13),
      ev('SessionEnd', 14),
    ]);
    expect(checkTree(spans).orphans).toEqual([]);
    const callOf = (agentId: string) => {
      const agent = spans.find((s) => s.attributes['gen_ai.agent.id'] === agentId && s.name.startsWith('invoke_agent general'));
      return spans.find((s) => s.spanId === agent?.parentSpanId)?.attributes['gen_ai.tool.call.id'];
    };
    expect(callOf('first')).toBe('toolu_A1');
    expect(callOf('second')).toBe('toolu_A2');
  });

  it('keeps a background agent under its Agent call after the turn has ended', () => {
    const bg = { tool_use_id: 'toolu_BG' };
    const { spans } = replay([
      ev('SessionStart', 0),
      ev('UserPromptSubmit', 1),
      ev('PreToolUse.Agent', 2, { ...bg, tool_input: { subagent_type: 'general-purpose', run_in_background: true } }),
      ev('PostToolUse.Agent-background', 3, { ...bg, tool_response: { status: 'async_launched', agentId: 'bg1' } }),
      ev('SubagentStart', 4, { agent_id: 'bg1' }),
      ev('Stop', 5),
      ev('PreToolUse.in-subagent', 6, { agent_id: 'bg1', tool_use_id: 'toolu_in_bg' }),
      ev('PostToolUse.in-subagent', 7, { agent_id: 'bg1', tool_use_id: 'toolu_in_bg' }),
      ev('SubagentStop', 8, { agent_id: 'bg1' }),
      ev('UserPromptSubmit.task-notification', 9, { prompt_id: 'prompt-2' }),
      ev('Stop', 10, { prompt_id: 'prompt-2' }),
      ev('SessionEnd', 11),
    ]);
    expect(checkTree(spans).orphans).toEqual([]);
    const agent = sole(spans.filter((s) => s.attributes['gen_ai.agent.id'] === 'bg1' && s.name.startsWith('invoke_agent')), 'bg agent');
    expect(spans.find((s) => s.spanId === agent.parentSpanId)?.attributes['gen_ai.tool.call.id']).toBe('toolu_BG');
    expect(agent.attributes['claude_code.agent.background']).toBe(true);
    expect(agent.attributes['claude_code.gap']).toBeUndefined();
    const turns = spans.filter((s) => s.name === 'claude_code.turn');
    expect(turns.map((t) => t.attributes['claude_code.prompt.kind'])).toEqual(['user', 'task_notification']);
  });

  it('closes a tool that never got a Post event when its turn ends, as denied when permission was refused', () => {
    const { spans } = replay([
      ev('SessionStart', 0),
      ev('UserPromptSubmit', 1),
      ev('PreToolUse', 2, tool(1, 'Write')),
      ev('PermissionRequest.Write.in-subagent', 3, { agent_id: undefined, agent_type: undefined }),
      ev('PreToolUse', 4, tool(2, 'Read')),
      ev('Stop', 5),
      ev('SessionEnd', 6),
    ]);
    const write = spans.find((s) => s.name === 'execute_tool Write')!;
    expect(write.status.code).toBe('error');
    expect(write.attributes).toMatchObject({ 'claude_code.tool.outcome': 'denied', 'error.type': 'permission_denied' });
    expect(write.events.map((e) => e.name)).toContain('claude_code.PermissionRequest');
    const read = spans.find((s) => s.name === 'execute_tool Read')!;
    expect(read.attributes).toMatchObject({ 'claude_code.tool.outcome': 'not_completed', 'error.type': 'not_completed' });
    expect(read.endMs).toBe(1_700_000_000_005);
  });

  it('marks the gap when opening events were lost, and still builds one rooted tree', () => {
    const { spans, builder } = replay([
      ev('PostToolUse', 100, { ...tool(9), duration_ms: 30 }),
      ev('Stop', 120),
      ev('SessionEnd', 130),
    ]);
    const tree = checkTree(spans);
    expect(tree.orphans).toEqual([]);
    expect(sole(tree.roots, 'roots').attributes['claude_code.gap']).toBe('missing_start');
    const t = spans.find((s) => s.name === 'execute_tool Bash')!;
    expect(t.attributes['claude_code.gap']).toBe('missing_start');
    expect(t.endMs - t.startMs).toBe(30);
    expect(builder.counters.gaps).toBe(3);
  });

  it('nests a resumed segment under the same root and its turns under the segment', () => {
    const first = replay([ev('SessionStart', 0), ev('UserPromptSubmit', 1), ev('Stop', 2), ev('SessionEnd', 3)]);
    const second = replay([
      ev('SessionStart.resume', 100),
      ev('UserPromptSubmit', 101, { prompt_id: 'prompt-2' }),
      ev('Stop', 102, { prompt_id: 'prompt-2' }),
      ev('SessionEnd', 103),
    ]);
    const all = [...first.spans, ...second.spans];
    const tree = checkTree(all);
    expect(tree.orphans).toEqual([]);
    expect(tree.duplicates).toBe(0);
    const root = sole(tree.roots, 'roots');
    const segment = sole(all.filter((s) => s.name === 'claude_code.session.resume'), 'segments');
    expect(segment.parentSpanId).toBe(root.spanId);
    const resumedTurn = all.find((s) => s.attributes['claude_code.prompt.id'] === 'prompt-2' && s.name === 'claude_code.turn');
    expect(resumedTurn?.parentSpanId).toBe(segment.spanId);
  });

  it('records compaction as a span and point events as span events plus log records', () => {
    const { spans, logs } = replay([
      ev('SessionStart', 0),
      ev('PreCompact', 1),
      ev('SubagentStop.compaction-fork', 2),
      ev('SessionStart.compact', 3),
      ev('PostCompact', 4),
      ev('2.1.328/Notification', 5),
      ev('ConfigChange', 6),
      ev('SessionEnd', 7),
    ]);
    const compaction = sole(spans.filter((s) => s.name === 'claude_code.compaction'), 'compactions');
    expect(compaction.attributes['claude_code.compaction.trigger']).toBe('manual');
    expect(compaction.events.map((e) => e.name)).toEqual(['claude_code.SubagentStop', 'claude_code.SessionStart']);
    expect(spans.filter((s) => s.name.startsWith('invoke_agent')).length).toBe(1);
    expect(logs.map((l) => l.eventName)).toContain('claude_code.hook.ConfigChange');
    const root = spans.find((s) => !s.parentSpanId)!;
    for (const log of logs) expect(log.traceId).toBe(root.traceId);
  });

  it('lets a prompt that arrives after its turn\'s first tool event complete the turn instead of a gap', () => {
    const { spans, builder } = replay([
      ev('SessionStart', 0),
      ev('PreToolUse', 10, tool(1)),
      ev('UserPromptSubmit', 11),
      ev('PostToolUse', 20, { ...tool(1), duration_ms: 5 }),
      ev('Stop', 30),
      ev('SessionEnd', 31),
    ]);
    const turn = sole(spans.filter((s) => s.name === 'claude_code.turn'), 'turns');
    expect(turn.attributes['claude_code.gap']).toBeUndefined();
    expect(turn.attributes['claude_code.turn.number']).toBe(1);
    expect(turn.startMs).toBe(1_700_000_000_010);
    expect(builder.counters.gaps).toBe(0);
  });

  it('ends a session whose last turn hit an API error (StopFailure) in error, and counts tool errors', () => {
    const { spans } = replay([
      ev('SessionStart', 0),
      ev('UserPromptSubmit', 1),
      ev('PreToolUse', 2, tool(1)),
      ev('PostToolUseFailure.exit3', 3, tool(1)),
      ev('StopFailure', 4),
      ev('SessionEnd', 5),
    ]);
    const root = spans.find((s) => !s.parentSpanId)!;
    expect(root.status).toEqual({ code: 'error', message: 'server_error' });
    expect(root.attributes).toMatchObject({ 'error.type': 'server_error', 'claude_code.session.tool_errors': 1, 'claude_code.session.turns': 1 });
    const recovered = replay([ev('SessionStart', 0), ev('UserPromptSubmit', 1), ev('StopFailure', 2), ev('UserPromptSubmit', 3, { prompt_id: 'p2' }), ev('Stop', 4, { prompt_id: 'p2' }), ev('SessionEnd', 5)]);
    expect(recovered.spans.find((s) => !s.parentSpanId)!.status.code).toBe('unset');
  });
});
